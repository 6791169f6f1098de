"""``nastavnik-monitoring``: serve the API and run the projection consumers."""

from nastavnik.common.runtime import serve
from nastavnik.monitoring.bootstrap import create_app, load_settings


def main() -> None:
    settings = load_settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()

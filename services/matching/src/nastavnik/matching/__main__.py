"""``nastavnik-matching``: serve the API and run the consumers."""

from nastavnik.common.runtime import serve
from nastavnik.matching.bootstrap import create_app, load_settings


def main() -> None:
    settings = load_settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()

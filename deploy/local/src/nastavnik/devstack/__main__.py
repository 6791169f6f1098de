"""``python -m nastavnik.devstack`` (what ``make run`` runs): the whole stack on one machine.

Real PostgreSQL and NATS JetStream as child processes with data under ``var/``, the four services
on ports 8001-8004, a demo region, then URLs, tokens and examples. Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import sys

from nastavnik.devstack import launcher
from nastavnik.devstack.supervisor import ISOLATED_ENV, run_isolated


def main() -> None:
    if os.environ.get(ISOLATED_ENV) == "1" or not hasattr(os, "setsid"):
        sys.exit(launcher.run())
    sys.exit(run_isolated())


if __name__ == "__main__":
    main()

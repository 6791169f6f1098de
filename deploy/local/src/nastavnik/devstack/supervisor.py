"""Run the stack in a session of its own, so that Ctrl-C reaches the launcher only.

A terminal delivers Ctrl-C's SIGINT to every process of its foreground process group: PostgreSQL,
NATS and the services would all stop at once, in no order. So ``python -m nastavnik.devstack``
starts the launcher again as its child in a new session (its own process group, no terminal),
forwards SIGINT, SIGTERM and SIGHUP to it as SIGTERM, and exits with the launcher's exit code.
The launcher then stops the services first, NATS next and PostgreSQL last.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from types import FrameType

from nastavnik.common.embedded import die_with_parent

# Set in the launcher's own environment; tells ``__main__`` to run the stack in-process.
ISOLATED_ENV = "NASTAVNIK_DEVSTACK_ISOLATED"

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run_isolated() -> int:
    child: list[subprocess.Popen[bytes]] = []
    pending: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        if child and child[0].poll() is None:
            child[0].send_signal(signal.SIGTERM)
        elif not child:
            pending.append(signum)

    for sig in FORWARDED_SIGNALS:
        signal.signal(sig, forward)
    child.append(
        subprocess.Popen(
            [sys.executable, "-m", "nastavnik.devstack"],
            env=os.environ | {ISOLATED_ENV: "1"},
            start_new_session=True,
            # if this process is killed outright, the launcher still gets SIGTERM and stops
            # everything in order
            preexec_fn=die_with_parent,
        )
    )
    if pending:
        child[0].send_signal(signal.SIGTERM)
    code = child[0].wait()
    return 128 - code if code < 0 else code  # killed by a signal: the shell's convention

"""Helpers shared by the benchmarks in ``bench/``.

Every benchmark prints human-readable lines and ends with exactly one JSON line (``emit``), so
``make bench`` output can be collected by taking each run's last line. The servers a benchmark
needs are started here, as children of the benchmark, on free ports in a temporary folder: a
benchmark never touches the machine's own PostgreSQL or NATS.

This is a package (``bench/_common/``), not a ``bench/*.py`` file, so ``make bench`` does not run
it as a benchmark. Benchmarks import it as ``_common`` (``bench/`` is first on ``sys.path`` when
a benchmark runs as a script).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nastavnik.common.embedded import EmbeddedNats, EmbeddedPostgres, free_port


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def env_flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "on"}


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_summary() -> str:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"machine: nproc={os.cpu_count()}, cpu={cpu_model()!r}, "
        f"python={platform.python_version()}, load average at start: {load}"
    )


def say(line: str) -> None:
    """A human-readable line (flushed, so progress shows while a benchmark runs)."""
    print(line, flush=True)


def emit(bench: str, value: float, unit: str, **extra: Any) -> None:
    """The benchmark's last line: one JSON object, ``bench``, ``value`` and ``unit`` first."""
    record: dict[str, Any] = {"bench": bench, "value": value, "unit": unit, **extra}
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def cpu_seconds(root_pid: int) -> float:
    """User + system CPU time of a process and all its descendants (Linux ``/proc``): what a
    server spent, unlike wall time not inflated by other jobs on a shared machine."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    times: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        times[pid] = int(fields[11]) + int(fields[12])  # utime, stime
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += times.get(pid, 0)
        stack.extend(children.get(pid, ()))
    return total / ticks


class Stopwatch:
    """``with Stopwatch() as watch: ...`` then ``watch.seconds``."""

    def __init__(self) -> None:
        self.started = 0.0
        self.seconds = 0.0

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.started


@dataclass
class Servers:
    nats: EmbeddedNats
    postgres: EmbeddedPostgres
    root: Path

    def database_url(self, name: str) -> str:
        return self.postgres.url.rsplit("/", 1)[0] + f"/{name}"


@contextlib.contextmanager
def embedded_servers(
    name: str, *, nats_sync_always: bool = True, postgres_durable: bool = True
) -> Iterator[Servers]:
    """A NATS server (JetStream, file storage) and a PostgreSQL, both ours, in a temp folder.

    The defaults are the production settings: NATS fsyncs every write (``sync_interval:
    always``) and PostgreSQL runs with fsync and synchronous commit on.
    """
    keep = env_flag("BENCH_KEEP_DATA", False)
    root = Path(tempfile.mkdtemp(prefix=f"nastavnik-bench-{name}-"))
    nats = EmbeddedNats(root / "nats", port=free_port(), sync_always=nats_sync_always)
    postgres = EmbeddedPostgres(root / "postgres", port=free_port(), durable=postgres_durable)
    try:
        nats.start()
        postgres.start()
        yield Servers(nats=nats, postgres=postgres, root=root)
    finally:
        nats.stop()
        postgres.stop()
        if keep:
            say(f"data kept in {root}")
        else:
            import shutil

            shutil.rmtree(root, ignore_errors=True)

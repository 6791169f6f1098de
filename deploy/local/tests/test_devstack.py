"""``python -m nastavnik.devstack`` end to end: start, demo loaded, stop cleanly, restart reuses.

The launcher runs as a real subprocess with its own var folder and free ports, in a session of
its own as a terminal's foreground job would be. Bounds on waiting are generous: they only turn
a hang into a failure.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from nastavnik.common.embedded import free_port
from nastavnik.devstack import demo_data, demo_registers
from nastavnik.devstack.console import READY_MARKER
from nastavnik.devstack.servers import port_in_use

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]

READY_BOUND_SECONDS = 600.0
STOP_BOUND_SECONDS = 180.0
SERVICES = ("registry", "matching", "monitoring", "notifications")


def free_port_block(size: int) -> int:
    """A first port such that it and the next ``size - 1`` ports are free."""
    for _ in range(100):
        base = free_port()
        if base + size < 65536 and not any(port_in_use(base + i) for i in range(size)):
            return base
    raise RuntimeError("no block of free ports")


@dataclass(frozen=True)
class Ports:
    postgres: int
    nats: int
    base: int

    def service(self, name: str) -> str:
        return f"http://127.0.0.1:{self.base + SERVICES.index(name)}"


@dataclass
class Launcher:
    """The launcher process and everything it prints."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def start(cls, var_dir: Path, ports: Ports) -> Launcher:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("NASTAVNIK_POSTGRES_URL", "NASTAVNIK_NATS_URL", "NASTAVNIK_DATABASE_URL")
        }
        env |= {
            "NASTAVNIK_DEVSTACK_VAR": str(var_dir),
            "NASTAVNIK_DEVSTACK_PG_PORT": str(ports.postgres),
            "NASTAVNIK_DEVSTACK_NATS_PORT": str(ports.nats),
            "NASTAVNIK_DEVSTACK_BASE_PORT": str(ports.base),
            "NASTAVNIK_LOG_LEVEL": "WARNING",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "nastavnik.devstack"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            start_new_session=True,  # like a job in a terminal: Ctrl-C goes to its group
        )
        launcher = cls(process)
        threading.Thread(target=launcher._read, daemon=True).start()
        return launcher

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith(READY_MARKER):
                self.ready.set()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_BOUND_SECONDS
        while not self.ready.wait(timeout=1):
            assert self.process.poll() is None, f"launcher exited early:\n{self.output}"
            assert time.monotonic() < deadline, f"launcher not ready:\n{self.output}"

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def stop(self, sig: int) -> int:
        if sig == signal.SIGINT:
            os.killpg(self.process.pid, sig)  # what Ctrl-C in a terminal does
        else:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=STOP_BOUND_SECONDS)
        except subprocess.TimeoutExpired:
            kill_all(self)
            raise


def kill_all(launcher: Launcher) -> None:
    """Teardown after a failed assertion: leave nothing running."""
    if launcher.process.poll() is None:
        for child in launcher.descendants():
            child.kill()
        launcher.process.kill()
        launcher.process.wait()


def describe(processes: list[psutil.Process]) -> set[str]:
    """Which kinds of process these are: the servers and the four services."""
    kinds = set()
    for process in processes:
        try:
            command = " ".join(process.cmdline())
        except psutil.Error:
            continue
        if "nats-server" in command:
            kinds.add("nats-server")
        elif "pginstall/bin/postgres" in command:
            kinds.add("postgres")
        for service in SERVICES:
            if f"nastavnik.{service}" in command:
                kinds.add(service)
    return kinds


def still_running(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for process in processes:
        try:
            # is_running() compares the creation time too: a reused pid is not our process
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            continue
    return alive


def wait_until_gone(processes: list[psutil.Process]) -> list[psutil.Process]:
    deadline = time.monotonic() + 60
    alive = still_running(processes)
    while alive and time.monotonic() < deadline:
        time.sleep(0.5)
        alive = still_running(processes)
    return alive


def counted_eventually(ports: Ports, token: str, expected: int) -> list[dict[str, Any]]:
    """Monitoring's counts once they add up to ``expected`` (or the last seen, after a bound)."""
    rows: list[dict[str, Any]] = []
    for _ in range(240):
        response = httpx.get(
            f"{ports.service('monitoring')}/api/v1/participant-counts",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        if response.status_code == 200:
            rows = list(response.json())
            if sum(row["mentors"] + row["mentees"] for row in rows) >= expected:
                break
        time.sleep(0.5)
    return rows


REGISTER_ROUTES = {
    "/api/v1/headcounts/bulk": "/api/v1/headcounts",
    "/api/v1/partnerships/bulk": "/api/v1/partnerships",
    "/api/v1/programmes/bulk": "/api/v1/programmes",
    "/api/v1/enrolments/bulk": "/api/v1/enrolments",
    "/api/v1/roadmap-items/bulk": "/api/v1/roadmap-items",
    "/api/v1/questionnaire-responses/bulk": "/api/v1/questionnaire-responses",
    "/api/v1/cases/bulk": "/api/v1/cases",
}


def expected_register_totals(demo: dict[str, Any]) -> dict[str, int]:
    ids = {key: organisation["id"] for key, organisation in demo["organisations"].items()}
    totals: dict[str, int] = {}
    for batch in demo_registers.registers(date.today(), ids):
        listed = REGISTER_ROUTES[batch.route]
        totals[listed] = totals.get(listed, 0) + len(batch.rows)
    return totals


def registry_totals(ports: Ports, demo: dict[str, Any]) -> dict[str, int]:
    """What the region admin sees in each register the demo fills."""
    totals = {}
    for listed in REGISTER_ROUTES.values():
        response = httpx.get(
            f"{ports.service('registry')}{listed}",
            params={"limit": 1},
            headers={"Authorization": f"Bearer {demo['admin_token']}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        totals[listed] = response.json()["total"]
    return totals


def run_once(var_dir: Path, ports: Ports, stop_signal: int) -> tuple[Launcher, dict[str, Any]]:
    """Start the launcher, check the running stack and the demo, stop it, check nothing stays."""
    launcher = Launcher.start(var_dir, ports)
    try:
        launcher.wait_ready()
        children = launcher.descendants()
        assert describe(children) >= {"nats-server", "postgres", *SERVICES}, launcher.output

        demo = json.loads((var_dir / "demo.json").read_text(encoding="utf-8"))
        expected = len(demo_data.people(date.today()))
        assert demo["complete"]
        assert demo["participants"] == expected
        rows = counted_eventually(ports, demo["admin_token"], expected)
        assert sum(row["mentors"] + row["mentees"] for row in rows) == expected
        assert len(rows) == len(demo_data.SCHOOLS) + len(demo_data.PARTNERS)
        assert demo["registers"]
        assert registry_totals(ports, demo) == expected_register_totals(demo)
    except BaseException:
        kill_all(launcher)
        raise

    code = launcher.stop(stop_signal)
    assert code == 0, launcher.output
    assert "stopping PostgreSQL" in launcher.output
    left = wait_until_gone(children)
    assert not left, f"left running: {[p.pid for p in left]}\n{launcher.output}"
    return launcher, demo


def test_devstack_runs_the_demo_stops_cleanly_and_restarts_on_the_same_data(
    tmp_path: Path,
) -> None:
    var_dir = tmp_path / "var"
    ports = Ports(postgres=free_port(), nats=free_port(), base=free_port_block(len(SERVICES)))

    first, demo = run_once(var_dir, ports, signal.SIGINT)
    assert "creating the demo region" in first.output
    assert (var_dir / "logs" / "registry.log").exists()

    second, demo_again = run_once(var_dir, ports, signal.SIGTERM)
    assert "already loaded" in second.output, second.output
    assert demo_again["admin_token"] == demo["admin_token"]
    assert demo_again["organisations"] == demo["organisations"]

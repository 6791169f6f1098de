"""The four services as child processes (``python -m nastavnik.<service>``).

Each writes its JSON log to ``var/logs/<service>.log``. Every child is started from the main
thread with ``die_with_parent``, so the kernel stops it if the launcher dies, even by SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from nastavnik.common.embedded import die_with_parent
from nastavnik.devstack.servers import StartupError

READY_TIMEOUT_SECONDS = 180.0  # generous: four services migrate at once on a small machine
STOP_TIMEOUT_SECONDS = 30.0

# Settings that name one service's own database or port: never inherited by all four.
_PER_SERVICE_VARIABLES = (
    "NASTAVNIK_DATABASE_URL",
    "NASTAVNIK_HTTP_PORT",
    "NASTAVNIK_SERVICE_NAME",
)


@dataclass
class ServiceProcess:
    name: str
    port: int
    log_file: Path
    env: Mapping[str, str]
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"nastavnik.{self.name}"],
                env=dict(self.env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def is_ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def signal(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)

    def wait(self, timeout: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def service_env(
    base: Mapping[str, str], *, postgres_url: str, nats_url: str, port: int
) -> dict[str, str]:
    env = {key: value for key, value in base.items() if key not in _PER_SERVICE_VARIABLES}
    env.update(
        {
            "NASTAVNIK_POSTGRES_URL": postgres_url,
            "NASTAVNIK_NATS_URL": nats_url,
            "NASTAVNIK_HTTP_PORT": str(port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@dataclass
class ServiceGroup:
    services: Sequence[ServiceProcess]

    @classmethod
    def create(
        cls,
        names: Sequence[str],
        *,
        port_of: Callable[[str], int],
        log_dir: Path,
        postgres_url: str,
        nats_url: str,
    ) -> ServiceGroup:
        return cls(
            [
                ServiceProcess(
                    name=name,
                    port=port_of(name),
                    log_file=log_dir / f"{name}.log",
                    env=service_env(
                        os.environ, postgres_url=postgres_url, nats_url=nats_url, port=port_of(name)
                    ),
                )
                for name in names
            ]
        )

    def __getitem__(self, name: str) -> ServiceProcess:
        return next(service for service in self.services if service.name == name)

    def start(self) -> None:
        for service in self.services:
            service.start()

    def wait_ready(self, on_ready: Callable[[ServiceProcess], None]) -> None:
        waiting = list(self.services)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while waiting:
            for service in list(waiting):
                code = service.exit_code()
                if code is not None:
                    raise StartupError(
                        f"{service.name} exited with code {code} while starting; "
                        f"see {service.log_file}"
                    )
                if service.is_ready():
                    waiting.remove(service)
                    on_ready(service)
            if waiting and time.monotonic() > deadline:
                names = ", ".join(service.name for service in waiting)
                raise StartupError(
                    f"not ready after {READY_TIMEOUT_SECONDS:.0f}s: {names}; see the logs in "
                    f"{waiting[0].log_file.parent}"
                )
            if waiting:
                time.sleep(0.3)

    def first_exited(self) -> ServiceProcess | None:
        return next((s for s in self.services if s.exit_code() is not None), None)

    def stop(self) -> None:
        """SIGTERM to all (uvicorn shuts down gracefully), then wait; SIGKILL the stragglers."""
        for service in self.services:
            service.signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for service in self.services:
            service.wait(timeout=max(deadline - time.monotonic(), 0.1))

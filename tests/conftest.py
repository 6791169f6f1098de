"""Fixtures for cross-service tests: the four services as processes on real NATS and PG."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from nastavnik.common.testing.plugin import Infrastructure, create_database, reset_streams
from nastavnik.common.testing.processes import ServiceProcess

FAST_TEST_SETTINGS = {
    "NASTAVNIK_RELAY_IDLE_POLL_SECONDS": "1",
    "NASTAVNIK_CONSUMER_RETRY_DELAY_SECONDS": "0.1",
    "NASTAVNIK_CONSUMER_MAX_DELIVER": "3",
    "NASTAVNIK_LOG_LEVEL": "WARNING",
}


@dataclass
class Region:
    region_id: str
    admin_token: str
    municipality_id: str
    school_id: str
    school_token: str


@dataclass
class Stack:
    infra: Infrastructure
    log_dir: Path
    databases: dict[str, str]
    services: dict[str, ServiceProcess]

    def env(self, service: str) -> dict[str, str]:
        return FAST_TEST_SETTINGS | {
            "NASTAVNIK_DATABASE_URL": self.databases[service],
            "NASTAVNIK_NATS_URL": self.infra.nats_url,
        }

    def start(self, service: str, **extra_env: str) -> ServiceProcess:
        process = ServiceProcess(service, self.env(service) | extra_env, self.log_dir)
        self.services[service] = process
        return process.start()

    def bootstrap_region(self, name: str = "Тестовая область") -> tuple[str, str]:
        output = subprocess.run(
            [sys.executable, "-m", "nastavnik.registry", "bootstrap-region", name],
            env=self.env("registry") | {"PATH": ""},
            capture_output=True,
            check=True,
        ).stdout
        result = json.loads(output.decode().strip().splitlines()[-1])
        return result["region_id"], result["token"]

    def stop(self) -> None:
        for process in self.services.values():
            process.stop()


@pytest.fixture
async def stack(infrastructure: Infrastructure, tmp_path: Path) -> AsyncIterator[Stack]:
    """Fresh databases and streams; services are started by the test."""
    await reset_streams(infrastructure.nats_url)
    databases = {
        service: await create_database(infrastructure, service)
        for service in ("registry", "monitoring")
    }
    stack = Stack(infrastructure, tmp_path / "logs", databases, {})
    yield stack
    await asyncio.to_thread(stack.stop)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_region(stack: Stack, registry_url: str) -> Region:
    region_id, admin = stack.bootstrap_region()
    with httpx.Client(base_url=registry_url, headers=auth(admin), timeout=30) as client:
        municipality = client.post(
            "/api/v1/organisations",
            json={"kind": "municipality", "name": "Городской округ Тест", "parent_id": region_id},
        ).json()
        school = client.post(
            "/api/v1/organisations",
            json={
                "kind": "school",
                "name": "МБОУ СОШ № 1",
                "parent_id": municipality["id"],
                "inn": "7701234560",
            },
        ).json()
        token = client.post(
            "/api/v1/tokens", json={"organisation_id": school["id"], "role": "school_system"}
        ).json()
    return Region(region_id, admin, municipality["id"], school["id"], token["token"])


def participant(external_id: str, role: str = "mentee") -> dict[str, object]:
    return {
        "external_id": external_id,
        "role": role,
        "category": "student",
        "last_name": "Иванов",
        "first_name": "Пётр",
        "birth_date": "2012-05-01",
        "grade": 7,
        # registry keeps personal data only with a consent: a minor's is a parent's
        "consent": {
            "given_on": "2025-09-01",
            "basis": "written",
            "representative": {
                "last_name": "Иванова",
                "first_name": "Ольга",
                "phone": "+79120000000",
            },
        },
    }


async def eventually(
    check: Callable[[], object], *, attempts: int = 600, interval: float = 0.1
) -> object:
    """Poll until ``check`` returns a truthy value; the last value is returned either way.

    Not a wall-clock limit on the system under test: a generous bound so that a broken
    pipeline fails the test instead of hanging it.
    """
    value = None
    for _ in range(attempts):
        value = check()
        if value:
            return value
        await asyncio.sleep(interval)
    return value

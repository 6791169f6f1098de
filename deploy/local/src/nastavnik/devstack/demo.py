"""Load the demo region through the public API, once.

What was created (ids and tokens) is kept in ``var/demo.json`` after every step, so a restart
reuses the data and the tokens, and an interrupted load resumes where it stopped. Participants and
the registers (``demo_registers``) are upserts by the school's ``external_id``: sending them
again changes nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel

from nastavnik.devstack import demo_data, demo_registers
from nastavnik.devstack.servers import StartupError

COUNTS_TIMEOUT_SECONDS = 180.0

Say = Callable[[str], None]


class DemoOrganisation(BaseModel):
    id: str
    kind: str
    name: str
    parent: str


class DemoToken(BaseModel):
    organisation: str
    role: str
    token: str


class DemoState(BaseModel):
    """The content of ``var/demo.json``."""

    region_name: str
    region_id: str
    admin_token: str
    organisations: dict[str, DemoOrganisation] = {}
    tokens: dict[str, DemoToken] = {}
    participants: int = 0
    complete: bool = False  # organisations, tokens and people loaded
    registers: bool = False  # and the registers: headcounts, programmes, enrolments, …

    def token(self, organisation: str, role: str) -> str:
        return self.tokens[f"{organisation}/{role}"].token

    def save(self, path: Path) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> DemoState | None:
        if not path.exists():
            return None
        return cls.model_validate_json(path.read_text(encoding="utf-8"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _check(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code not in (200, 201):
        raise StartupError(f"{what}: HTTP {response.status_code} {response.text[:500]}")
    body: dict[str, Any] = response.json()
    return body


def bootstrap_region(name: str, env: Mapping[str, str]) -> tuple[str, str]:
    """Create the region and its admin token with the registry's own command."""
    result = subprocess.run(
        [sys.executable, "-m", "nastavnik.registry", "bootstrap-region", name],
        env=dict(env),
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise StartupError(f"bootstrap-region failed: {result.stderr.decode()[-2000:]}")
    line = result.stdout.decode().strip().splitlines()[-1]
    created = json.loads(line)
    return str(created["region_id"]), str(created["token"])


def _still_valid(state: DemoState, registry: httpx.Client) -> bool:
    """The saved region and admin token exist in this database (it may have been wiped)."""
    response = registry.get(
        f"/api/v1/organisations/{state.region_id}", headers=bearer(state.admin_token)
    )
    if response.status_code in (401, 403, 404):
        return False
    _check(response, "checking the saved demo region")
    return True


def load_demo(
    path: Path, region_name: str, registry_url: str, registry_env: Mapping[str, str], say: Say
) -> DemoState:
    with httpx.Client(base_url=registry_url, timeout=30) as registry:
        state = DemoState.load(path)
        if state is not None and not _still_valid(state, registry):
            stale = path.with_name(f"demo.stale-{int(time.time())}.json")
            path.replace(stale)
            say(f"{path.name} does not match the database; kept as {stale.name}, loading afresh")
            state = None
        if state is not None and state.complete and state.registers:
            say(f"demo region «{state.region_name}» already loaded ({path}); reusing it")
            return state
        if state is None:
            say(f"creating the demo region «{region_name}»")
            region_id, admin_token = bootstrap_region(region_name, registry_env)
            state = DemoState(region_name=region_name, region_id=region_id, admin_token=admin_token)
            state.save(path)
        _create_organisations(state, registry, path)
        _issue_tokens(state, registry, path)
        if not state.complete:
            _register_people(state, registry, path, say)
        _load_registers(state, registry, path, say)
    return state


def _create_organisations(state: DemoState, registry: httpx.Client, path: Path) -> None:
    admin = bearer(state.admin_token)
    for spec in demo_data.ORGANISATIONS:
        if spec.key in state.organisations:
            continue
        parent = spec.parent or "region"
        parent_id = state.region_id if parent == "region" else state.organisations[parent].id
        created = _check(
            registry.post("/api/v1/organisations", json=spec.body(parent_id), headers=admin),
            f"creating {spec.name}",
        )
        state.organisations[spec.key] = DemoOrganisation(
            id=created["id"], kind=spec.kind, name=spec.name, parent=parent
        )
        state.save(path)


def _issue_tokens(state: DemoState, registry: httpx.Client, path: Path) -> None:
    admin = bearer(state.admin_token)
    for spec in demo_data.TOKENS:
        if spec.key in state.tokens:
            continue
        body = {"organisation_id": state.organisations[spec.organisation].id, "role": spec.role}
        issued = _check(
            registry.post("/api/v1/tokens", json=body, headers=admin),
            f"issuing a {spec.role} token",
        )
        state.tokens[spec.key] = DemoToken(
            organisation=spec.organisation, role=spec.role, token=issued["token"]
        )
        state.save(path)


def _register_people(state: DemoState, registry: httpx.Client, path: Path, say: Say) -> None:
    people = demo_data.people(date.today())
    outcomes: dict[str, int] = {}
    for person in people:
        token = state.token(person.organisation, "school_system")
        result = _check(
            registry.post("/api/v1/participants", json=person.body, headers=bearer(token)),
            f"registering participant {person.body['external_id']}",
        )
        outcomes[result["result"]] = outcomes.get(result["result"], 0) + 1
    state.participants = len(people)
    state.complete = True
    state.save(path)
    summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
    say(f"participants registered: {summary}")


def _load_registers(state: DemoState, registry: httpx.Client, path: Path, say: Say) -> None:
    ids = {key: organisation.id for key, organisation in state.organisations.items()}
    outcomes: dict[str, dict[str, int]] = {}
    for batch in demo_registers.registers(date.today(), ids):
        token = state.token(batch.organisation, "school_system")
        report = _check(
            registry.post(batch.route, json=list(batch.rows), headers=bearer(token)),
            f"loading {batch.what}",
        )
        rejected = [row for row in report["rows"] if row["status"] == "rejected"]
        if rejected:
            raise StartupError(f"the registry rejected demo {batch.what}: {rejected[0]}")
        counted = outcomes.setdefault(batch.what, {})
        for outcome, count in report["summary"].items():
            counted[outcome] = counted.get(outcome, 0) + count
    state.registers = True
    state.save(path)
    for what, counted in outcomes.items():
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counted.items()) if n)
        say(f"{what}: {summary}")


def total_counted(monitoring_url: str, token: str) -> int | None:
    """Mentors plus mentees monitoring counts in the region; None while the token is unknown."""
    try:
        response = httpx.get(
            f"{monitoring_url}/api/v1/participant-counts", headers=bearer(token), timeout=10
        )
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    return sum(int(row["mentors"]) + int(row["mentees"]) for row in response.json())


def wait_until_counted(state: DemoState, monitoring_url: str) -> int | None:
    """Wait until monitoring has projected every demo participant (events flow through the
    outbox and JetStream). Returns the count seen last."""
    deadline = time.monotonic() + COUNTS_TIMEOUT_SECONDS
    seen: int | None = None
    while time.monotonic() < deadline:
        seen = total_counted(monitoring_url, state.admin_token)
        if seen is not None and seen >= state.participants:
            return seen
        time.sleep(0.5)
    return seen

"""What the launcher prints: progress lines and the final block of URLs, tokens and examples."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from nastavnik.devstack import demo_data
from nastavnik.devstack.demo import DemoState
from nastavnik.devstack.servers import Servers, redact
from nastavnik.devstack.services import ServiceProcess

READY_MARKER = "READY"
RULE = "=" * 78


def say(message: str) -> None:
    print(f"[nastavnik] {message}", flush=True)


def fail(message: str) -> None:
    print(f"[nastavnik] ERROR: {message}", file=sys.stderr, flush=True)


def _services_table(services: Sequence[ServiceProcess]) -> list[str]:
    lines = [f"  {'service':<14} {'API':<24} {'docs':<30} metrics"]
    for service in services:
        url = service.url
        lines.append(f"  {service.name:<14} {url:<24} {url + '/docs':<30} {url}/metrics")
    return lines


def _tokens(state: DemoState, demo_file: Path) -> list[str]:
    lines = [
        f"Demo tokens (also in {demo_file}):",
        f"  region admin, {state.region_name}",
        f"      {state.admin_token}",
    ]
    for spec in demo_data.TOKENS:
        organisation = state.organisations[spec.organisation].name
        if spec.role == "municipality_viewer":
            lines += [
                f"  municipality viewer, {organisation}",
                f"      {state.tokens[spec.key].token}",
            ]
    current = None
    for spec in demo_data.TOKENS:
        if spec.role == "municipality_viewer":
            continue
        if spec.organisation != current:
            current = spec.organisation
            lines.append(f"  {state.organisations[current].name}")
        lines.append(f"      {spec.role:<15} {state.tokens[spec.key].token}")
    return lines


def _examples(state: DemoState, registry: str, monitoring: str) -> list[str]:
    school = demo_data.SCHOOLS[0]
    school_id = state.organisations[school.key].id
    born = date(demo_data.school_year_start(date.today()) - 13, 3, 14)  # a seventh-former
    person = (
        '{"external_id":"S-9001","role":"mentee","category":"student",'
        '"last_name":"Ёлкина","first_name":"Алёна","middle_name":"Фёдоровна",'
        f'"birth_date":"{born.isoformat()}","grade":7,'
        f'"consent":{{"given_on":"{date.today().isoformat()}","basis":"written",'
        '"representative":{"last_name":"Ёлкина","first_name":"Мария","phone":"+79120000000"}}}'
    )
    return [
        "Try it:",
        f"  export ADMIN={state.admin_token}",
        f"  export SCHOOL={state.token(school.key, 'school_system')}  # {school.name}",
        "  # mentors and mentees per school, as monitoring sees them",
        f'  curl -s -H "Authorization: Bearer $ADMIN" {monitoring}/api/v1/participant-counts',
        "  # the school's register",
        f'  curl -s -H "Authorization: Bearer $SCHOOL" \\\n'
        f'       "{registry}/api/v1/organisations/{school_id}/participants?limit=5"',
        "  # add (or update) a mentee by the school's own id",
        f'  curl -s -X POST -H "Authorization: Bearer $SCHOOL" '
        "-H 'Content-Type: application/json' \\\n"
        f"       -d '{person}' \\\n"
        f"       {registry}/api/v1/participants",
    ]


def summary(
    services: Sequence[ServiceProcess],
    servers: Servers,
    var_dir: Path,
    state: DemoState | None,
) -> str:
    by_name = {service.name: service for service in services}
    lines = [RULE, "Nastavnik is running", RULE, *_services_table(services), ""]
    lines += [
        f"PostgreSQL: {redact(servers.postgres_url)}",
        f"NATS:       {redact(servers.nats_url)}",
        f"Data:       {var_dir}  (service logs in {var_dir / 'logs'}; delete the folder "
        "to start afresh)",
        "",
    ]
    if state is not None:
        lines += [*_tokens(state, var_dir / "demo.json"), ""]
        lines += [*_examples(state, by_name["registry"].url, by_name["monitoring"].url), ""]
    lines += [RULE, f"{READY_MARKER}: press Ctrl-C to stop everything", RULE]
    return "\n".join(lines)

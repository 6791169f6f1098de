"""The demo region's content and the launcher's settings (no processes)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from nastavnik.devstack import demo_data
from nastavnik.devstack.config import ConfigError, DevstackConfig
from nastavnik.devstack.servers import redact

TODAY = date(2026, 11, 22)


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def test_students_birth_dates_match_their_grades() -> None:
    first_of_september = date(demo_data.school_year_start(TODAY), 9, 1)
    students = [p.body for p in demo_data.people(TODAY) if p.body["category"] == "student"]
    assert students
    for body in students:
        age = age_on(date.fromisoformat(body["birth_date"]), first_of_september)
        assert age == 6 + body["grade"], body


def test_mentors_and_mentees_have_the_expected_shape() -> None:
    people = [p.body for p in demo_data.people(TODAY)]
    assert 100 <= len(people) <= 200
    mentees = [b for b in people if b["role"] == "mentee"]
    student_mentors = [b for b in people if b["role"] == "mentor" and b["category"] == "student"]
    assert {b["grade"] for b in mentees if b["category"] == "student"} <= set(range(5, 12))
    assert {b["grade"] for b in student_mentors} <= {9, 10, 11}
    assert all("grade" not in b for b in people if b["category"] != "student")
    assert any("ё" in b["last_name"] + b["first_name"] + b["middle_name"] for b in people)


def test_external_ids_are_unique_within_each_organisation() -> None:
    keys = Counter((p.organisation, p.body["external_id"]) for p in demo_data.people(TODAY))
    assert max(keys.values()) == 1


def test_generation_is_deterministic() -> None:
    assert demo_data.people(TODAY) == demo_data.people(TODAY)


def test_every_organisation_and_token_refers_to_a_known_parent() -> None:
    keys = {"region"} | {o.key for o in demo_data.ORGANISATIONS}
    assert all(o.parent in keys for o in demo_data.ORGANISATIONS)
    assert all(t.organisation in keys for t in demo_data.TOKENS)
    assert len(demo_data.SCHOOLS) == 6


def test_legal_identifiers_have_valid_check_digits() -> None:
    assert demo_data.inn10("770708389") == "7707083893"
    assert demo_data.ogrn13("102770013219") == "1027700132195"


@pytest.mark.parametrize(
    ("male", "female"),
    [("Соловьёв", "Соловьёва"), ("Никольский", "Никольская"), ("Черных", "Черных")],
)
def test_feminine_surnames(male: str, female: str) -> None:
    assert demo_data.feminine(male) == female


def test_config_defaults_keep_clear_of_a_developers_own_servers(tmp_path: Path) -> None:
    config = DevstackConfig.from_env({"NASTAVNIK_DEVSTACK_VAR": str(tmp_path)})
    assert (config.pg_port, config.nats_port) == (15432, 14222)
    assert [config.service_port(s) for s in ("registry", "notifications")] == [8001, 8004]
    assert config.external_postgres_url is None
    assert config.var_dir == tmp_path.resolve()


def test_config_rejects_a_bad_port() -> None:
    with pytest.raises(ConfigError, match="NASTAVNIK_DEVSTACK_PG_PORT"):
        DevstackConfig.from_env({"NASTAVNIK_DEVSTACK_PG_PORT": "http"})


def test_passwords_are_not_printed() -> None:
    url = "postgresql+asyncpg://app:s3cret@db:5432/postgres"
    assert redact(url) == "postgresql+asyncpg://app:***@db:5432/postgres"

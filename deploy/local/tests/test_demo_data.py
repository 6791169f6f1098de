"""The demo region's content and the launcher's settings (no processes)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from nastavnik.devstack import demo_data, demo_registers
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


# --- the registers beyond people -----------------------------------------------------------------

IDS = {o.key: f"id-{o.key}" for o in demo_data.ORGANISATIONS}


def batches(what: str, today: date = TODAY) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for batch in demo_registers.registers(today, IDS):
        if batch.what == what:
            found.setdefault(batch.organisation, []).extend(batch.rows)
    return found


@pytest.mark.parametrize("today", [TODAY, date(2026, 9, 1), date(2027, 3, 15)])
def test_every_reference_in_the_registers_points_at_something_loaded_before(today: date) -> None:
    people = {(p.organisation, p.body["external_id"]): p.body for p in demo_data.people(today)}
    programmes = {
        (school, row["external_id"]): row for school, rows in batches("programmes", today).items()
        for row in rows
    }  # fmt: skip
    mentors = {
        (school, row["programme_external_id"], row["participant_external_id"])
        for school, rows in batches("mentors' enrolments", today).items()
        for row in rows
    }
    for what in ("mentors' enrolments", "mentees' enrolments"):
        for school, rows in batches(what, today).items():
            for row in rows:
                programme = programmes[(school, row["programme_external_id"])]
                owner = "college" if "participant_organisation_id" in row else school
                person = people[(owner, row["participant_external_id"])]
                assert person["role"] == ("mentor" if what.startswith("mentors") else "mentee")
                assert programme["starts_on"] <= row["entered_on"] <= today.isoformat()
                wished = row.get("preferred_mentor_external_id")
                if wished is not None:
                    assert (school, row["programme_external_id"], wished) in mentors
    for school, rows in batches("questionnaire answers", today).items():
        for row in rows:
            programme = programmes[(school, row["programme_external_id"])]
            assert programme["starts_on"] <= row["answered_on"] <= today.isoformat()
            assert 1 <= row["score"] <= 10
    for school, rows in batches("roadmap steps", today).items():
        for row in rows:
            assert (school, row["programme_external_id"]) in programmes
            assert row.get("done_on", "") <= today.isoformat()
            assert ("done_on" in row) == (row["status"] == "done")


def test_schools_differ_in_how_far_they_have_got() -> None:
    mentees = batches("mentees' enrolments")
    students = {school: sum(row["participant_external_id"].startswith("S-") for row in rows)
                for school, rows in mentees.items()}  # fmt: skip
    assert students[demo_registers.LAGGING] == 0
    assert len(set(students.values())) == len(demo_data.SCHOOLS)  # every school its own share
    assert set(batches("headcounts")) == {school.key for school in demo_data.SCHOOLS}
    assert sum(len(rows) for rows in batches("cases").values()) == 2


def test_the_registers_are_deterministic() -> None:
    assert demo_registers.registers(TODAY, IDS) == demo_registers.registers(TODAY, IDS)

"""A withdrawn consent blanks the person's name in the responsible text of roadmap steps.

The rules of finding a name in free text (``domain.redaction``) first, then the whole path on a
real PostgreSQL and NATS, the app in-process: the withdrawal (``POST /participants/{id}/consent/
withdrawal``) blanks the name in the school's steps, purges the stored Idempotency-Key answers
that hold those steps, sends no roadmap event, and the school's next sync of the same text
leaves it blanked."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from nastavnik.common.idempotency import idempotency_keys
from nastavnik.registry.adapters.roadmaps import roadmap_items
from nastavnik.registry.domain.redaction import REDACTED, PersonName, redact

from .conftest import Registry
from .programme_support import (
    add_participant,
    add_programme,
    enrol_a_partners_mentor,
    post,
    programme,
    teacher,
)
from .test_enrolments_erasure import tables_holding, withdraw

ZHUKOV = PersonName("Жуков", "Олег", "Иванович")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Жуков О.И., заместитель директора по УВР", "#, заместитель директора по УВР"),
        ("Жуков О. И.", "#"),
        ("О.И. Жуков", "#"),
        ("зам. директора Жуков Олег Иванович", "зам. директора #"),
        ("Олег Иванович Жуков; Петрова А. А.", "#; Петрова А. А."),
        ("ЖУКОВ олег", "#"),
        ("Олег Жуков", "#"),
        ("Жуков О.", "#"),
        ("Жуков О.И. и Жуков О.И.", "# и #"),
    ],
)
def test_the_name_is_found_in_the_forms_documents_use(text: str, expected: str) -> None:
    assert redact(text, ZHUKOV) == expected.replace("#", REDACTED)


@pytest.mark.parametrize(
    "text",
    [
        "заместитель директора по УВР",
        "Жуков О.П.",  # another person's initials
        "П. О. Жуков",
        "П.О. Жуков",
        "Жуковский О.И.",  # another surname that begins the same
        "Жукова О.И.",
        "Жуков",  # the surname alone would blank a namesake
    ],
)
def test_other_people_and_posts_are_left_alone(text: str) -> None:
    assert redact(text, ZHUKOV) is None


def test_yo_and_double_surnames() -> None:
    assert redact("Ёлкина А.", PersonName("Елкина", "Алёна")) == REDACTED
    assert redact("Салтыков-Щедрин М. Е.", PersonName("Салтыков-Щедрин", "Михаил", "Е")) == (
        REDACTED
    )


STEP = {
    "programme_external_id": "P-1",
    "external_id": "rm-1",
    "step": "Провести встречу наставников",
    "deadline": "2025-10-15",
    "responsible": "Жуков О. И., заместитель директора по УВР",
}
OTHER_STEP = STEP | {"external_id": "rm-2", "responsible": "Петрова А. А."}


async def responsible(registry: Registry) -> dict[str, dict[str, Any]]:
    async with registry.sessions() as session:
        found = (await session.execute(select(roadmap_items))).mappings().all()
    return {row["external_id"]: dict(row) for row in found}


async def stored_keys(registry: Registry) -> set[str]:
    async with registry.sessions() as session:
        return set((await session.scalars(select(idempotency_keys.c.key))).all())


async def test_withdrawal_blanks_the_name_in_the_schools_roadmap_and_a_sync_keeps_it_blank(
    registry: Registry,
) -> None:
    zhukov = await add_participant(
        registry, teacher("t-1", last_name="Жуков", first_name="Олег", middle_name="Иванович")
    )
    await add_participant(
        registry, teacher("t-2", last_name="Петрова", first_name="Анна", middle_name="Андреевна")
    )
    await add_programme(registry)
    for body, key in ((STEP, "step-1"), (OTHER_STEP, "step-2")):
        answer = await post(registry, "/roadmap-items", body, **{"Idempotency-Key": key})
        assert answer.status_code == 201, answer.text
    before = await responsible(registry)
    assert await tables_holding(registry, ("Жуков О. И.",)) == {
        "roadmap_items": ["Жуков О. И."],
        "idempotency_keys": ["Жуков О. И."],
    }
    events_before = len(await registry.outbox_events("roadmap_item.updated"))

    await withdraw(registry, zhukov["id"], registry.school_token)

    after = await responsible(registry)
    assert after["rm-1"]["responsible"] == f"{REDACTED}, заместитель директора по УВР"
    assert after["rm-1"]["version"] == before["rm-1"]["version"]  # no new version, no event
    assert after["rm-2"] == before["rm-2"]  # another person's step is untouched
    assert await tables_holding(registry, ("Жуков О. И.", "Жуков")) == {}
    assert await stored_keys(registry) >= {"step-2"}
    assert "step-1" not in await stored_keys(registry)  # its answer held the name
    assert len(await registry.outbox_events("roadmap_item.updated")) == events_before

    # the school's system still has the name: its nightly sync changes nothing
    again = await post(registry, "/roadmap-items", STEP)
    assert again.status_code == 200, again.text
    assert again.json()["result"] == "unchanged"
    assert again.json()["item"]["responsible"] == after["rm-1"]["responsible"]
    assert (await responsible(registry))["rm-1"] == after["rm-1"]

    # a new text from the school is its own, and replaces the blanked one
    renamed = await post(registry, "/roadmap-items", STEP | {"responsible": "Сидорова Е. В."})
    assert renamed.json()["result"] == "updated"
    changed = (await responsible(registry))["rm-1"]
    assert (changed["responsible"], changed["responsible_redacted_from"]) == (
        "Сидорова Е. В.",
        None,
    )


async def test_the_schools_the_person_is_enrolled_with_are_searched_and_no_other(
    registry: Registry,
) -> None:
    """A college's student mentors in the school's programme: the school's step that names
    her is blanked when the college withdraws her consent; a namesake in a third school keeps
    the name."""
    partner = await enrol_a_partners_mentor(registry)  # Петров Илья, of the college
    named = STEP | {"programme_external_id": "P-C", "responsible": "Петров И., колледж связи"}
    assert (await post(registry, "/roadmap-items", named)).status_code == 201
    third_school = await registry.add_school("МБОУ СОШ № 3")
    third = await registry.issue_token(third_school, "school_system")
    assert (await post(registry, "/programmes", programme(), third)).status_code == 201
    assert (
        await post(registry, "/roadmap-items", named | {"programme_external_id": "P-1"}, third)
    ).status_code == 201

    await withdraw(registry, partner.mentor["id"], partner.college_token)

    async with registry.sessions() as session:
        columns = roadmap_items.c.school_id, roadmap_items.c.responsible
        steps = {row[0]: row[1] for row in await session.execute(select(*columns))}
    assert steps == {
        uuid.UUID(registry.school_id): f"{REDACTED}, колледж связи",
        uuid.UUID(third_school): "Петров И., колледж связи",
    }

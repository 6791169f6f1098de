"""A withdrawn consent erases the free text about the person in their enrolments.

Real PostgreSQL and NATS, the app in-process. The withdrawal (``POST /participants/{id}/consent/
withdrawal``) drops, in the same transaction, a mentee's request and the note on leaving from
every enrolment of the person (active or ended, in every school's programme) and the stored
Idempotency-Key answers of enrolment requests that name the person; the structured attributes
stay. Checked in the rows, through the API, across every table of the database, in the stored
answers and in the outbox (whose events never carry free text at all)."""

from __future__ import annotations

import json
import zlib
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, text, update

from nastavnik.common.contracts.events import EnrolmentEndReason, ParticipantRole
from nastavnik.common.idempotency import idempotency_keys
from nastavnik.common.outbox import outbox
from nastavnik.registry.adapters.enrolments import enrolments
from nastavnik.registry.domain.enrolments import EnrolmentDetails

from .conftest import Registry, bearer
from .programme_support import (
    add_participant,
    add_programme,
    enrol,
    enrol_a_partners_mentor,
    get,
    post,
    student,
)

pytestmark = pytest.mark.integration

# the free text of the person whose consent is withdrawn (st-1, mentee) and of their mentor
# (st-10), and of another mentee (st-2) who keeps their consent
ST1_REQUEST = "Помощь с алгеброй, боюсь контрольных"
ST1_OLD_REQUEST = "Подготовка к олимпиаде по физике"
ST1_NOTE = "Переехала к бабушке в Тверь"
ST10_NOTE = "Нагрузка в десятом классе"
ST2_REQUEST = "Хочу разобраться с геометрией"
ST2_NOTE = "Перешёл в другой кружок"
ERASED = (ST1_REQUEST, ST1_OLD_REQUEST, ST1_NOTE, ST10_NOTE)
KEPT = (ST2_REQUEST, ST2_NOTE)


def enrolment(programme: str, participant: str, **extra: Any) -> dict[str, Any]:
    return {
        "programme_external_id": programme,
        "participant_external_id": participant,
        "entered_on": "2025-09-15",
    } | extra


async def end(registry: Registry, enrolment_id: str, note: str, **headers: str) -> None:
    response = await post(
        registry,
        f"/enrolments/{enrolment_id}/end",
        {"reason": "own_wish", "ended_on": "2025-12-20", "note": note},
        **headers,
    )
    assert response.status_code == 200, response.text


async def withdraw(registry: Registry, participant_id: str, token: str) -> dict[str, Any]:
    response = await registry.http.post(
        f"/api/v1/participants/{participant_id}/consent/withdrawal", headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    erased: dict[str, Any] = response.json()
    return erased


async def rows(registry: Registry) -> dict[str, dict[str, Any]]:
    """Every enrolment as the database holds it, by id."""
    async with registry.sessions() as session:
        found = (await session.execute(select(enrolments))).mappings().all()
    return {str(row["id"]): dict(row) for row in found}


async def tables_holding(registry: Registry, needles: tuple[str, ...]) -> dict[str, list[str]]:
    """Which tables of the service's database hold any of ``needles`` in any text column
    (a row cast to text: every column; bytea columns are checked apart, decoded)."""
    found: dict[str, list[str]] = {}
    async with registry.sessions() as session:
        names = (
            await session.execute(
                text(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_type = 'BASE TABLE' "
                    "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
            )
        ).all()
        assert len(names) > 10, names  # the registry's tables, not an empty schema
        for schema, table in names:
            for needle in needles:
                hits = await session.scalar(
                    text(f'SELECT count(*) FROM "{schema}"."{table}" AS r WHERE r::text LIKE :p'),
                    {"p": f"%{needle}%"},
                )
                if hits:
                    found.setdefault(table, []).append(needle)
        payloads = (await session.scalars(select(outbox.c.payload))).all()
        bodies = (await session.scalars(select(idempotency_keys.c.body))).all()
    outbox_text = b"".join(payloads).decode()
    answers = "".join(zlib.decompress(body).decode() for body in bodies if body)
    for table, content in (("outbox (payloads)", outbox_text), ("idempotency_keys", answers)):
        hits = [needle for needle in needles if needle in content]
        if hits:
            found[table] = hits
    return found


def test_the_free_text_is_what_an_erasure_drops() -> None:
    details = EnrolmentDetails(
        role=ParticipantRole.MENTEE,
        entered_on=date(2025, 9, 15),
        subjects=("алгебра",),
        interests=("шахматы",),
        request=ST1_REQUEST,
        ended_on=date(2025, 12, 20),
        end_reason=EnrolmentEndReason.OWN_WISH,
        end_note=ST1_NOTE,
    )
    assert details.has_free_text
    erased = details.without_free_text()
    assert not erased.has_free_text
    assert (erased.request, erased.end_note) == (None, None)
    assert erased == EnrolmentDetails(
        role=details.role,
        entered_on=details.entered_on,
        subjects=details.subjects,
        interests=details.interests,
        ended_on=details.ended_on,
        end_reason=details.end_reason,
    )


async def test_withdrawal_erases_the_free_text_of_the_persons_enrolments(
    registry: Registry,
) -> None:
    people = {
        "st-10": await add_participant(registry, student("st-10", role="mentor", grade=10)),
        "st-1": await add_participant(registry, student("st-1")),
        "st-2": await add_participant(registry, student("st-2")),
    }
    await add_programme(registry)
    await add_programme(registry, external_id="P-2", goals="Олимпиадная подготовка")
    mentor = {"subjects": ["математика"], "competences": ["олимпиадная математика"]}
    mentor_p1 = await enrol(registry, enrolment("P-1", "st-10", **mentor))
    mentor_p2 = await enrol(registry, enrolment("P-2", "st-10", **mentor))
    await end(registry, mentor_p2, ST10_NOTE)
    mentee = {"subjects": ["алгебра"], "interests": ["шахматы"]}
    st1_p1 = await enrol(
        registry,
        enrolment("P-1", "st-1", request=ST1_REQUEST, preferred_mentor_external_id="st-10")
        | mentee,
        **{"Idempotency-Key": "enrol-st-1"},
    )
    st1_p2 = await enrol(registry, enrolment("P-2", "st-1", request=ST1_OLD_REQUEST) | mentee)
    await end(registry, st1_p2, ST1_NOTE, **{"Idempotency-Key": "end-st-1"})
    st2_p1 = await enrol(
        registry,
        enrolment("P-1", "st-2", request=ST2_REQUEST) | mentee,
        **{"Idempotency-Key": "enrol-st-2"},
    )
    st2_p2 = await enrol(registry, enrolment("P-2", "st-2", request=ST2_REQUEST) | mentee)
    await end(registry, st2_p2, ST2_NOTE)
    before = await rows(registry)
    assert await tables_holding(registry, ERASED + KEPT) == {
        "enrolments": list(ERASED + KEPT),
        "idempotency_keys": [ST1_REQUEST, ST1_OLD_REQUEST, ST1_NOTE, ST2_REQUEST],
    }  # the outbox never held any of it

    await withdraw(registry, people["st-1"]["id"], registry.school_token)
    await withdraw(registry, people["st-10"]["id"], registry.school_token)

    after = await rows(registry)
    # the person's free text is NULL in every enrolment of theirs, active or ended
    for enrolment_id in (st1_p1, st1_p2, mentor_p1, mentor_p2):
        assert (after[enrolment_id]["request"], after[enrolment_id]["end_note"]) == (None, None)
    # the structured attributes stay (counts, matching history); the ended stay as they ended
    structured = (
        "programme_id",
        "participant_id",
        "role",
        "category",
        "form",
        "entered_on",
        "subjects",
        "interests",
        "competences",
        "capacity",
        "availability",
        "preferred_mentor_id",
        "avoided_mentor_ids",
    )
    for enrolment_id in (st1_p1, st1_p2, mentor_p1, mentor_p2):
        assert {c: after[enrolment_id][c] for c in structured} == {
            c: before[enrolment_id][c] for c in structured
        }
    assert after[st1_p1]["preferred_mentor_id"] == before[st1_p1]["preferred_mentor_id"]
    for enrolment_id in (st1_p2, mentor_p2):  # ended before: no new version, no new event
        assert after[enrolment_id] | {"updated_at": None} == before[enrolment_id] | {
            "request": None,
            "end_note": None,
            "updated_at": None,
        }
    for enrolment_id in (st1_p1, mentor_p1):  # active: ended by the withdrawal
        assert (after[enrolment_id]["ended_on"], after[enrolment_id]["end_reason"]) == (
            date.today(),
            "consent_withdrawn",
        )
        assert after[enrolment_id]["version"] == 2
    # another mentee's text is untouched
    for enrolment_id in (st2_p1, st2_p2):
        assert after[enrolment_id] == before[enrolment_id]
    assert (after[st2_p1]["request"], after[st2_p2]["end_note"]) == (ST2_REQUEST, ST2_NOTE)

    # nowhere in the database: not in a row of any table, not in the outbox, not in a stored
    # answer (the answers that named the person are gone, st-2's stays)
    assert await tables_holding(registry, ERASED + KEPT) == {
        "enrolments": list(KEPT),
        "idempotency_keys": [ST2_REQUEST],
    }
    async with registry.sessions() as session:
        keys = set((await session.scalars(select(idempotency_keys.c.key))).all())
    assert {"enrol-st-1", "end-st-1"}.isdisjoint(keys)
    assert "enrol-st-2" in keys

    # the API shows them empty
    for enrolment_id in (st1_p1, st1_p2, mentor_p2):
        shown = await get(registry, f"/enrolments/{enrolment_id}")
        assert (shown["request"], shown["end_note"]) == (None, None)
    shown = await get(registry, f"/enrolments/{st1_p2}")
    assert (shown["subjects"], shown["interests"], shown["end_reason"]) == (
        ["алгебра"],
        ["шахматы"],
        "own_wish",
    )
    listed = await get(registry, "/enrolments", participant_id=people["st-2"]["id"])
    assert {(e["request"], e["end_note"]) for e in listed["items"]} == {
        (ST2_REQUEST, None),
        (ST2_REQUEST, ST2_NOTE),
    }

    # no event ever carried free text (before the withdrawal or since)
    envelopes = await registry.outbox_events()
    assert {e["type"] for e in envelopes} >= {
        "ru.nastavnik.enrolment.created.v1",
        "ru.nastavnik.enrolment.ended.v1",
        "ru.nastavnik.participant.erased.v1",
    }
    everything = json.dumps(envelopes, ensure_ascii=False)
    for value in ERASED + KEPT:
        assert value not in everything, value

    # a repeat changes nothing
    count = len(envelopes)
    await withdraw(registry, people["st-1"]["id"], registry.school_token)
    assert len(await registry.outbox_events()) == count
    assert await rows(registry) == after

    # the school's nightly sync that still sends the text does not bring it back
    resent = await post(
        registry,
        "/enrolments",
        enrolment(
            "P-2",
            "st-1",
            request=ST1_OLD_REQUEST,
            ended_on="2025-12-20",
            end_reason="own_wish",
            end_note=ST1_NOTE,
        )
        | mentee,
    )
    assert resent.status_code == 200, resent.text
    assert resent.json()["result"] == "unchanged"
    bulk = await post(
        registry,
        "/enrolments/bulk",
        [
            enrolment(
                "P-1",
                "st-1",
                request=ST1_REQUEST,
                preferred_mentor_external_id="st-10",
                ended_on=date.today().isoformat(),
                end_reason="consent_withdrawn",
                end_note=ST1_NOTE,
            )
            | mentee
        ],
    )
    assert bulk.status_code == 200, bulk.text
    assert bulk.json()["summary"]["unchanged"] == 1, bulk.text
    assert await rows(registry) == after
    assert len(await registry.outbox_events()) == count


async def test_a_repeat_erases_the_text_an_earlier_erasure_left(registry: Registry) -> None:
    """An erasure from before this rule left the text: withdrawing again erases it."""
    person = await add_participant(registry, student("st-1"))
    await add_participant(registry, student("st-10", role="mentor", grade=10))
    await add_programme(registry)
    enrolment_id = await enrol(registry, enrolment("P-1", "st-1", request=ST1_REQUEST))
    await withdraw(registry, person["id"], registry.school_token)
    async with registry.sessions() as session, session.begin():
        await session.execute(
            update(enrolments)
            .where(enrolments.c.id == enrolment_id)
            .values(request=ST1_REQUEST, end_note=ST1_NOTE)
        )
    count = len(await registry.outbox_events())

    await withdraw(registry, person["id"], registry.school_token)

    row = (await rows(registry))[enrolment_id]
    assert (row["request"], row["end_note"], row["version"]) == (None, None, 2)
    assert len(await registry.outbox_events()) == count  # no event: events carry no text


async def test_a_partners_mentor_loses_the_note_in_the_schools_programme(
    registry: Registry,
) -> None:
    """The college withdraws its student's consent: the note the school wrote on the mentor's
    enrolment in the school's programme is erased, and the school's stored answer with it."""
    partners = await enrol_a_partners_mentor(registry, competences=["радиотехника"])
    enrolment_id = partners.enrolment_id
    await end(registry, enrolment_id, ST10_NOTE, **{"Idempotency-Key": "end-c-7"})

    await withdraw(registry, partners.mentor["id"], partners.college_token)

    row = (await rows(registry))[enrolment_id]
    assert (row["end_note"], row["competences"], row["end_reason"]) == (
        None,
        ["радиотехника"],
        "own_wish",
    )
    assert await tables_holding(registry, (ST10_NOTE,)) == {}

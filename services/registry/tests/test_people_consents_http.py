"""People, consents and erasure through HTTP: real PostgreSQL and NATS, the app in-process.

Create, update, upsert by external_id, list with filters and pages, a later consent, withdrawal
with erasure checked in the database rows, and the events each change stages in the outbox.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from nastavnik.common import idempotency
from nastavnik.common.idempotency import idempotency_keys
from nastavnik.common.outbox import outbox
from nastavnik.registry.adapters.consents import participant_consents
from nastavnik.registry.adapters.tables import participants

from .conftest import Registry, bearer
from .programme_support import PARENT_CONSENT, REPRESENTATIVE, add_participant, student, teacher

pytestmark = pytest.mark.integration

MOTHER = {
    "last_name": "Ёлкина",
    "first_name": "Мария",
    "middle_name": "Ивановна",
    "phone": "+7 912 345-67-89",
    "email": "maria@example.ru",
}
STUDENT: dict[str, Any] = {
    "external_id": "st-1",
    "role": "mentee",
    "category": "student",
    "last_name": "Ёлкина",
    "first_name": "Алёна",
    "middle_name": "Сергеевна",
    "birth_date": "2012-09-05",
    "grade": 8,
    "email": "alena@example.ru",
    "phone": "8 (900) 111-22-33",
    "consent": {"given_on": "2025-09-01", "basis": "written", "representative": MOTHER},
}
TEACHER: dict[str, Any] = {
    "external_id": "t-1",
    "role": "mentor",
    "category": "teacher",
    "last_name": "Соколова",
    "first_name": "Анна",
    "birth_date": "1985-03-01",
    "years_of_experience": 2,
    "subjects": ["Математика", "физика"],
    "phone": "+79005554433",
    "consent": {"given_on": "2025-09-02", "basis": "electronic", "given_by": "self"},
}
# what must never reach the REGISTRY stream
PERSONAL = (
    "Ёлкина",
    "Алёна",
    "Мария",
    "Соколова",
    "2012-09-05",
    "1985-03-01",
    "example.ru",
    "+7900",
    "+7912",
    "last_name",
    "birth_date",
    "email",
    "phone",
)


SYNC_KEY = {"Idempotency-Key": "sync-st-1"}


async def post(registry: Registry, body: dict[str, Any], **headers: str) -> Any:
    return await registry.http.post(
        "/api/v1/participants", json=body, headers=registry.school_headers(**headers)
    )


async def all_envelopes(registry: Registry) -> list[tuple[str, dict[str, Any]]]:
    async with registry.sessions() as session:
        rows = (await session.execute(select(outbox.c.subject, outbox.c.payload))).all()
    return [(row.subject, json.loads(row.payload)) for row in rows]


async def assert_registry_stream_has_no_personal_data(registry: Registry) -> None:
    envelopes = await all_envelopes(registry)
    on_registry = [e for subject, e in envelopes if subject.startswith("registry.")]
    assert on_registry
    for envelope in on_registry:
        text = json.dumps(envelope, ensure_ascii=False)
        for value in PERSONAL:
            assert value not in text, (value, envelope["type"])


async def test_registration_with_a_parents_consent_emits_state_and_contacts_apart(
    registry: Registry,
) -> None:
    response = await post(registry, STUDENT)

    assert response.status_code == 201, response.text
    participant = response.json()["participant"]
    assert participant["consent_status"] == "active"
    assert participant["phone"] == "+79001112233"
    assert participant["consent"]["given_by"] == "representative"  # inferred from the name
    assert participant["consent"]["representative"]["phone"] == "+79123456789"
    [registered] = await registry.outbox_events("participant.registered")
    assert registered["data"] == {
        "participant_id": participant["id"],
        "role": "mentee",
        "category": "student",
        "grade": 8,
        "has_consent": True,
        "years_of_experience": None,
        "young_specialist": None,
        "subjects": [],
        "graduation_year": None,
    }
    [contact] = await registry.outbox_events("contact.updated")
    assert contact["data"] == {
        "participant_id": participant["id"],
        "email": "alena@example.ru",
        "phone": "+79001112233",
        "representative_email": "maria@example.ru",
        "representative_phone": "+79123456789",
    }
    assert contact["school"] == registry.school_id
    subjects = {e["type"]: subject for subject, e in await all_envelopes(registry)}
    # one subject per participant: the stream keeps its newest contact event only
    assert subjects["ru.nastavnik.contact.updated.v1"] == f"contacts.{participant['id']}"
    assert (
        subjects["ru.nastavnik.participant.registered.v1"] == "registry.participant.registered.v1"
    )
    await assert_registry_stream_has_no_personal_data(registry)


async def test_a_minor_without_a_representatives_consent_is_rejected(registry: Registry) -> None:
    before = await all_envelopes(registry)
    body = STUDENT | {"consent": {"given_on": "2025-09-01", "basis": "written"}}

    response = await post(registry, body)

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["detail"] == "Проверьте поля: consent.representative"
    [error] = problem["errors"]
    assert error["field"] == "consent.representative"
    assert error["message"] == (
        "на дату согласия 01.09.2025 участнику 12 лет: за несовершеннолетнего согласие на "
        "обработку персональных данных даёт законный представитель — укажите его ФИО и "
        "телефон или эл. почту"
    )
    nameless = STUDENT | {
        "consent": {"given_on": "2025-09-01", "basis": "written", "given_by": "representative"}
    }
    second = await post(registry, nameless)
    assert second.status_code == 422
    assert [e["field"] for e in second.json()["errors"]] == ["consent.representative"]
    assert await all_envelopes(registry) == before


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"consent": None}, "consent", "нет согласия"),
        ({"phone": "+7 900"}, "phone", "номер телефона не распознан"),
        ({"email": "alena@"}, "email", "адрес электронной почты не распознан"),
        ({"years_of_experience": 3}, "years_of_experience", "только для педагогов"),
        ({"consent": {"given_on": "2025-09-01"}}, "consent.basis", "обязательное"),
        (
            {"consent": {"given_on": "2025-09-01", "basis": "oral", "representative": MOTHER}},
            "consent.basis",
            "допустимо",
        ),
        (
            {"consent": {"given_on": "2099-01-01", "basis": "written", "representative": MOTHER}},
            "consent.given_on",
            "в будущем",
        ),
    ],
)
async def test_bad_people_get_a_problem_naming_the_field(
    registry: Registry, change: dict[str, Any], field: str, fragment: str
) -> None:
    before = await all_envelopes(registry)
    body = {key: value for key, value in (STUDENT | change).items() if value is not None}
    response = await post(registry, body)

    assert response.status_code == 422, response.text
    [error] = [e for e in response.json()["errors"] if e["field"] == field]
    assert fragment in error["message"]
    assert await all_envelopes(registry) == before


async def test_upsert_by_external_id_updates_only_what_changed(registry: Registry) -> None:
    created = (await post(registry, TEACHER)).json()["participant"]
    assert created["young_specialist"] is True
    assert created["subjects"] == ["математика", "физика"]
    before = len(await all_envelopes(registry))

    same = await post(registry, TEACHER)
    without_consent = await post(registry, {k: v for k, v in TEACHER.items() if k != "consent"})

    assert (same.status_code, same.json()["result"]) == (200, "unchanged")
    assert without_consent.json()["result"] == "unchanged"  # the stored consent stays
    assert len(await all_envelopes(registry)) == before

    moved = await post(registry, TEACHER | {"phone": "+7 900 000-00-01", "years_of_experience": 4})

    assert moved.json()["result"] == "updated"
    assert moved.json()["participant"]["young_specialist"] is False
    [updated] = await registry.outbox_events("participant.updated")
    assert updated["sequence"] == 2
    assert (updated["data"]["years_of_experience"], updated["data"]["young_specialist"]) == (
        4,
        False,
    )
    contacts = await registry.outbox_events("contact.updated")
    assert [c["data"]["phone"] for c in contacts] == ["+79005554433", "+79000000001"]
    assert await registry.outbox_events("participant.consent_recorded") == []
    await assert_registry_stream_has_no_personal_data(registry)


async def test_a_later_consent_supersedes_the_first(registry: Registry) -> None:
    grown_up = STUDENT | {"birth_date": "2007-09-05", "grade": 11}
    participant = (await post(registry, grown_up)).json()["participant"]
    own = {"given_on": "2025-09-05", "basis": "electronic", "given_by": "self"}
    path = f"/api/v1/participants/{participant['id']}/consents"

    recorded = await registry.http.post(path, json=own, headers=registry.school_headers())
    again = await registry.http.post(path, json=own, headers=registry.school_headers())
    too_early = await registry.http.post(
        path, json=own | {"given_on": "2025-09-04"}, headers=registry.school_headers()
    )

    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["participant"]["consent"]["given_by"] == "self"
    assert recorded.json()["participant"]["consent"]["representative"] is None
    assert (again.status_code, again.json()["result"]) == (200, "unchanged")
    assert too_early.status_code == 422
    assert too_early.json()["errors"][0]["field"] == "consent.representative"
    [event] = await registry.outbox_events("participant.consent_recorded")
    assert event["data"] == {
        "participant_id": participant["id"],
        "given_by": "self",
        "basis": "electronic",
    }
    assert event["sequence"] == 2
    # notifications now know that the mother's contacts are no longer the ones to use
    contacts = await registry.outbox_events("contact.updated")
    assert contacts[-1]["data"]["representative_phone"] is None
    history = await registry.http.get(path, headers=registry.school_headers())
    assert [(c["status"], c["given_by"]) for c in history.json()] == [
        ("superseded", "representative"),
        ("active", "self"),
    ]


async def test_lists_filter_and_page(registry: Registry) -> None:
    for number in range(5):
        await post(registry, STUDENT | {"external_id": f"st-{number}", "grade": 5 + number % 2})
    await post(registry, TEACHER)
    await post(registry, TEACHER | {"external_id": "t-2", "years_of_experience": 20})
    erased = (await post(registry, STUDENT | {"external_id": "st-9"})).json()["participant"]
    await registry.http.post(
        f"/api/v1/participants/{erased['id']}/consent/withdrawal",
        json={},
        headers=registry.school_headers(),
    )
    url = f"/api/v1/organisations/{registry.school_id}/participants"

    async def listed(**params: object) -> dict[str, Any]:
        response = await registry.http.get(url, params=params, headers=registry.school_headers())
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page

    page = await listed(category="student", limit=2, offset=2)
    assert (page["total"], page["limit"], page["offset"]) == (6, 2, 2)
    assert [p["external_id"] for p in page["items"]] == ["st-2", "st-3"]
    assert (await listed(grade=6))["total"] == 2
    assert [p["external_id"] for p in (await listed(young_specialist=True))["items"]] == ["t-1"]
    assert [p["external_id"] for p in (await listed(young_specialist=False))["items"]][:1] == [
        "st-0"
    ]
    assert (await listed(role="mentor"))["total"] == 2
    assert (await listed(consent="active"))["total"] == 7
    withdrawn = (await listed(consent="withdrawn"))["items"]
    assert [(p["external_id"], p["last_name"]) for p in withdrawn] == [("st-9", None)]
    assert (await listed(consent="missing"))["total"] == 0
    assert (await listed(external_id="t-2"))["items"][0]["years_of_experience"] == 20

    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")
    seen = await registry.http.get(url, headers=bearer(viewer))
    assert seen.json()["total"] == 8
    other_school = await registry.add_school("МБОУ СОШ № 2")
    other = await registry.issue_token(other_school, "school_curator")
    assert (await registry.http.get(url, headers=bearer(other))).status_code == 404


async def test_a_school_finds_its_people_by_the_start_of_the_name(registry: Registry) -> None:
    await post(registry, STUDENT)
    await post(registry, STUDENT | {"external_id": "st-2", "first_name": "Анна"})
    await post(registry, TEACHER | {"last_name": "Соколова-Ёлкина", "middle_name": "Юрьевна"})
    await post(registry, TEACHER | {"external_id": "t_%", "last_name": "Ол%_ва"})
    url = f"/api/v1/organisations/{registry.school_id}/participants"

    async def found(name: str) -> list[str]:
        response = await registry.http.get(
            url, params={"name": name}, headers=registry.school_headers()
        )
        assert response.status_code == 200, response.text
        return [p["external_id"] for p in response.json()["items"]]

    assert await found("ЕЛКИНА") == ["st-1", "st-2"]  # ё and е alike, any case
    assert await found("  ёлкина   ал ") == ["st-1"]
    assert await found("Ёлкина Алёна Сергеевна") == ["st-1"]
    assert await found("соколова-ё") == ["t-1"]
    assert await found("Анна") == []  # the start of the full name, not any word of it
    assert await found("Ол%") == ["t_%"]  # LIKE's wildcards are letters here
    assert await found("О%") == []
    assert await found("Ол_") == []


async def test_withdrawal_erases_personal_data_everywhere_in_registry(
    registry: Registry,
) -> None:
    key = {"Idempotency-Key": "student-st-1"}
    created = await post(registry, STUDENT, **key)
    participant_id = created.json()["participant"]["id"]
    other = (await post(registry, TEACHER, **{"Idempotency-Key": "teacher-t-1"})).json()
    bulk = await registry.http.post(
        "/api/v1/participants/bulk",
        json=[STUDENT | {"grade": 9}],
        headers=registry.school_headers(**{"Idempotency-Key": "bulk-1"}),
    )
    assert bulk.json()["summary"]["updated"] == 1
    async with registry.sessions() as session:
        stored_before = set((await session.scalars(select(idempotency_keys.c.key))).all())
    assert stored_before == {"student-st-1", "teacher-t-1", "bulk-1"}

    response = await registry.http.post(
        f"/api/v1/participants/{participant_id}/consent/withdrawal",
        headers=registry.school_headers(),
    )

    assert response.status_code == 200, response.text
    erased = response.json()
    assert erased["consent_status"] == "withdrawn"
    assert erased["consent_withdrawn_on"] == date.today().isoformat()
    assert [erased[k] for k in ("last_name", "first_name", "middle_name", "birth_date")] == [
        None
    ] * 4
    assert (erased["email"], erased["phone"], erased["consent"]) == (None, None, None)
    assert (erased["external_id"], erased["category"], erased["grade"]) == ("st-1", "student", 9)

    async with registry.sessions() as session:
        row = (
            await session.execute(select(participants).where(participants.c.id == participant_id))
        ).one()
        consents = (
            await session.execute(
                select(participant_consents).where(
                    participant_consents.c.participant_id == participant_id
                )
            )
        ).all()
        stored = (await session.execute(select(idempotency_keys))).all()
        outbox_rows = (await session.execute(select(outbox))).all()
    personal_columns = (
        "last_name",
        "first_name",
        "middle_name",
        "birth_date",
        "email",
        "phone",
        "place_of_study",
        "place_of_work",
    )
    assert {column: getattr(row, column) for column in personal_columns} == dict.fromkeys(
        personal_columns
    )
    assert row.erased_on == date.today()
    assert (row.role, row.category, row.grade) == ("mentee", "student", 9)  # counts stay
    [consent] = consents
    assert consent.withdrawn_on == date.today()
    assert (consent.given_on, consent.basis, consent.given_by) == (
        date(2025, 9, 1),
        "written",
        "representative",
    )
    assert [getattr(consent, c) for c in consent._fields if c.startswith("representative")] == [
        None
    ] * 5
    # the stored answers that named the person are gone; the teacher's stays
    assert {answer.key for answer in stored} == {"teacher-t-1"}
    for answer in stored:
        assert b"\xd0\x81\xd0\xbb\xd0\xba\xd0\xb8\xd0\xbd" not in zlib.decompress(answer.body)
    # the outbox keeps no contacts of the person, only the erasure events
    about_her = [r for r in outbox_rows if r.aggregate == participant_id]
    assert [(r.subject, r.event_type) for r in about_her if r.subject.startswith("contacts.")] == [
        (f"contacts.{participant_id}", "ru.nastavnik.contact.erased.v1")
    ]
    assert "Ёлкина" not in b"".join(r.payload for r in outbox_rows).decode()
    assert any(r.aggregate == other["participant"]["id"] for r in outbox_rows)
    [erasure] = await registry.outbox_events("participant.erased")
    [contact_erasure] = await registry.outbox_events("contact.erased")
    assert erasure["data"] == contact_erasure["data"] == {"participant_id": participant_id}
    assert erasure["sequence"] == contact_erasure["sequence"] == 3
    assert erasure["school"] == registry.school_id
    await assert_registry_stream_has_no_personal_data(registry)

    # a repeat changes nothing; a replay of the old key runs again and is refused
    again = await registry.http.post(
        f"/api/v1/participants/{participant_id}/consent/withdrawal",
        headers=registry.school_headers(),
    )
    assert again.json() == erased
    replay = await post(registry, STUDENT, **key)
    assert "idempotent-replayed" not in replay.headers
    assert replay.status_code == 422
    assert replay.json()["errors"][0]["field"] == "consent.given_on"
    assert "отозвано" in replay.json()["errors"][0]["message"]
    assert len(await registry.outbox_events("participant.erased")) == 1


async def test_an_answer_still_being_stored_during_the_withdrawal_is_not_kept(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A keyed sync of the person commits its update and, before its answer (the person's
    whole record) is stored, the consent is withdrawn and the stored answers are purged. The
    answer must not be stored afterwards: the withdrawal fenced the school's tokens."""
    participant_id = (await post(registry, STUDENT)).json()["participant"]["id"]
    committed, go = asyncio.Event(), asyncio.Event()
    real_store = idempotency._store

    async def paused_store(conn: Any, claim: Any, values: dict[str, Any]) -> None:
        if claim.key == "sync-st-1":
            committed.set()  # the sync's effects are committed, its answer not yet stored
            await go.wait()
        await real_store(conn, claim, values)

    monkeypatch.setattr(idempotency, "_store", paused_store)
    syncing = asyncio.create_task(post(registry, STUDENT | {"grade": 9}, **SYNC_KEY))
    await committed.wait()
    withdrawn = await registry.http.post(
        f"/api/v1/participants/{participant_id}/consent/withdrawal",
        headers=registry.school_headers(),
    )
    assert withdrawn.status_code == 200, withdrawn.text
    go.set()
    synced = await syncing

    assert synced.status_code == 200, synced.text
    assert synced.json()["participant"]["last_name"] == "Ёлкина"  # it was read before
    async with registry.sessions() as session:
        stored = (await session.execute(select(idempotency_keys))).all()
    assert stored == []
    # the retry runs again (refused: the consent is withdrawn); a request that started after
    # the withdrawal stores its answer as usual
    retried = await post(registry, STUDENT | {"grade": 9}, **SYNC_KEY)
    assert retried.status_code == 422, retried.text
    assert "idempotent-replayed" not in retried.headers
    replayed = await post(registry, STUDENT | {"grade": 9}, **SYNC_KEY)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == retried.json()


async def test_a_withdrawal_waits_for_an_answer_being_stored_and_purges_it(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other order: the sync's answer has passed the fence check and is being stored when
    the consent is withdrawn. The withdrawal must wait for it and then purge it."""
    participant_id = (await post(registry, STUDENT)).json()["participant"]["id"]
    storing, go = asyncio.Event(), asyncio.Event()
    real_insert = idempotency._insert_answer

    async def paused_insert(conn: Any, claim: Any, values: dict[str, Any]) -> None:
        if claim.key == "sync-st-1":
            storing.set()  # under the caller's fence lock, not fenced
            await go.wait()
        await real_insert(conn, claim, values)

    monkeypatch.setattr(idempotency, "_insert_answer", paused_insert)
    syncing = asyncio.create_task(post(registry, STUDENT | {"grade": 9}, **SYNC_KEY))
    await storing.wait()
    withdrawing = asyncio.create_task(
        registry.http.post(
            f"/api/v1/participants/{participant_id}/consent/withdrawal",
            headers=registry.school_headers(),
        )
    )
    await registry.until_done_or_waiting_for_a_lock(withdrawing)
    go.set()
    synced, withdrawn = await syncing, await withdrawing

    assert (synced.status_code, withdrawn.status_code) == (200, 200), withdrawn.text
    async with registry.sessions() as session:
        stored = (await session.execute(select(idempotency_keys))).all()
    assert stored == []


async def test_an_erased_record_comes_back_only_with_a_consent_after_the_withdrawal(
    registry: Registry,
) -> None:
    participant_id = (await post(registry, STUDENT)).json()["participant"]["id"]
    withdrawn_on = date.today() - timedelta(days=3)
    path = f"/api/v1/participants/{participant_id}"
    await registry.http.post(
        f"{path}/consent/withdrawal",
        json={"withdrawn_on": withdrawn_on.isoformat()},
        headers=registry.school_headers(),
    )

    nightly_sync = await registry.http.post(
        "/api/v1/participants/bulk", json=[STUDENT], headers=registry.school_headers()
    )
    consent_only = await registry.http.post(
        f"{path}/consents",
        json={"given_on": date.today().isoformat(), "basis": "written", "representative": MOTHER},
        headers=registry.school_headers(),
    )
    new_consent = STUDENT | {
        "consent": {
            "given_on": (withdrawn_on + timedelta(days=1)).isoformat(),
            "basis": "written",
            "representative": MOTHER,
        }
    }
    back = await post(registry, new_consent)

    [row] = nightly_sync.json()["rows"]
    assert row["status"] == "rejected"
    assert row["errors"][0]["field"] == "consent.given_on"
    assert consent_only.status_code == 409
    assert back.status_code == 200, back.text
    assert back.json()["result"] == "updated"
    assert back.json()["participant"]["last_name"] == "Ёлкина"
    assert back.json()["participant"]["consent_status"] == "active"
    types = [e["type"].split(".")[2:4] for e in await registry.outbox_events()]
    assert types[-3:] == [
        ["participant", "updated"],
        ["participant", "consent_recorded"],
        ["contact", "updated"],
    ]
    [updated] = await registry.outbox_events("participant.updated")
    assert updated["data"]["has_consent"] is True


async def test_only_the_school_itself_withdraws_a_consent(registry: Registry) -> None:
    participant_id = (await post(registry, STUDENT)).json()["participant"]["id"]
    other_school = await registry.add_school("МБОУ СОШ № 2")
    foreign = await registry.issue_token(other_school, "school_curator")
    viewer = await registry.issue_token(registry.municipality_id, "municipality_viewer")
    path = f"/api/v1/participants/{participant_id}/consent/withdrawal"

    for token in (foreign, viewer, registry.admin_token):
        response = await registry.http.post(path, headers=bearer(token))
        assert response.status_code == 404, response.text
        assert "Ёлкина" not in response.text
    future = await registry.http.post(
        path, json={"withdrawn_on": "2999-01-01"}, headers=registry.school_headers()
    )
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "withdrawn_on"
    assert await registry.outbox_events("participant.erased") == []


async def test_leaving_the_registers_keeps_the_consent(registry: Registry) -> None:
    participant_id = (await post(registry, TEACHER)).json()["participant"]["id"]

    left = await registry.http.delete(
        f"/api/v1/participants/{participant_id}", headers=registry.school_headers()
    )

    assert left.status_code == 200
    assert (left.json()["withdrawn"], left.json()["consent_status"]) == (True, "active")
    assert left.json()["last_name"] == "Соколова"
    [withdrawn] = await registry.outbox_events("participant.withdrawn")
    assert withdrawn["data"] == {"participant_id": participant_id}
    back = await post(registry, TEACHER)
    assert back.json()["result"] == "updated"
    assert back.json()["participant"]["withdrawn"] is False


async def test_the_withdrawn_filter_lists_who_left_the_registers(registry: Registry) -> None:
    await add_participant(registry, teacher("t-1"))
    leaving = await add_participant(registry, teacher("t-2"))
    await add_participant(registry, student("st-1"))
    path = f"/api/v1/participants/{leaving['id']}"

    left = await registry.http.delete(path, headers=registry.school_headers())
    again = await registry.http.delete(path, headers=registry.school_headers())

    assert left.status_code == again.status_code == 200, left.text
    assert (again.json()["withdrawn"], again.json()["version"]) == (True, left.json()["version"])
    withdrawn = await registry.outbox_events("participant.withdrawn")
    assert [(e["subject"], e["data"]) for e in withdrawn] == [
        (leaving["id"], {"participant_id": leaving["id"]})
    ]
    assert withdrawn[0]["sequence"] == left.json()["version"] == 2
    url = f"/api/v1/organisations/{registry.school_id}/participants"

    async def listed(**params: str | bool) -> tuple[list[str], int]:
        response = await registry.http.get(url, params=params, headers=registry.school_headers())
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return [p["external_id"] for p in page["items"]], page["total"]

    assert await listed(withdrawn=True) == (["t-2"], 1)
    assert await listed(withdrawn=False) == (["st-1", "t-1"], 2)
    assert await listed() == (["st-1", "t-1", "t-2"], 3)
    assert await listed(withdrawn=False, role="mentor") == (["t-1"], 1)


async def test_the_same_consent_with_the_representatives_new_contacts_is_updated(
    registry: Registry,
) -> None:
    participant = await add_participant(registry, student("st-1"))
    path = f"/api/v1/participants/{participant['id']}/consents"
    new_phone = PARENT_CONSENT | {"representative": REPRESENTATIVE | {"phone": "+79120000000"}}

    updated = await registry.http.post(path, json=new_phone, headers=registry.school_headers())

    assert (updated.status_code, updated.json()["result"]) == (200, "updated"), updated.text
    consent = updated.json()["participant"]["consent"]
    assert consent["id"] == participant["consent"]["id"]  # the same consent, not a new one
    assert consent["representative"]["phone"] == "+79120000000"
    assert await registry.outbox_events("participant.consent_recorded") == []
    contacts = await registry.outbox_events("contact.updated")
    assert [c["data"]["representative_phone"] for c in contacts] == [
        "+79123456789",
        "+79120000000",
    ]
    assert contacts[-1]["subject"] == participant["id"]
    history = await registry.http.get(path, headers=registry.school_headers())
    assert [(c["id"], c["status"], c["representative"]["phone"]) for c in history.json()] == [
        (consent["id"], "active", "+79120000000")
    ]

    withdrawn = await registry.http.post(
        f"/api/v1/participants/{participant['id']}/consent/withdrawal",
        headers=registry.school_headers(),
    )
    assert withdrawn.status_code == 200, withdrawn.text
    after = (await registry.http.get(path, headers=registry.school_headers())).json()
    assert [(c["id"], c["status"], c["withdrawn_on"], c["given_on"]) for c in after] == [
        (consent["id"], "withdrawn", date.today().isoformat(), "2025-09-01")
    ]
    assert not any((after[0]["representative"] or {}).values())

"""Token format and the scope rules of a principal (pure)."""

from __future__ import annotations

import uuid

import pytest

from nastavnik.common.auth import Principal, generate_token, hash_secret, parse_token
from nastavnik.common.contracts.envelope import TenantKeys
from nastavnik.common.contracts.events import AccessRole
from nastavnik.common.problems import ProblemError

REGION, OTHER_REGION = uuid.uuid4(), uuid.uuid4()
MUNICIPALITY, OTHER_MUNICIPALITY = uuid.uuid4(), uuid.uuid4()
SCHOOL, OTHER_SCHOOL = uuid.uuid4(), uuid.uuid4()


def principal(role: AccessRole) -> Principal:
    municipality = None if role == AccessRole.REGION_ADMIN else MUNICIPALITY
    school = SCHOOL if role in (AccessRole.SCHOOL_CURATOR, AccessRole.SCHOOL_SYSTEM) else None
    return Principal(
        uuid.uuid4(), role, school or municipality or REGION, REGION, municipality, school
    )


def test_generated_token_parses_back_and_only_its_hash_is_kept() -> None:
    token = generate_token()
    parsed = parse_token(token.plaintext)
    assert parsed is not None
    token_id, secret = parsed
    assert token_id == token.token_id
    assert hash_secret(secret) == token.secret_hash
    assert secret not in token.secret_hash


@pytest.mark.parametrize(
    "text",
    ["", "nst", "nst_zz_secret", "abc_" + uuid.uuid4().hex + "_s", "nst_" + uuid.uuid4().hex + "_"],
)
def test_malformed_tokens_do_not_parse(text: str) -> None:
    assert parse_token(text) is None


@pytest.mark.parametrize(
    ("role", "tenant", "readable"),
    [
        (
            AccessRole.REGION_ADMIN,
            TenantKeys(region=REGION, municipality=OTHER_MUNICIPALITY, school=OTHER_SCHOOL),
            True,
        ),
        (AccessRole.REGION_ADMIN, TenantKeys(region=OTHER_REGION), False),
        (
            AccessRole.MUNICIPALITY_VIEWER,
            TenantKeys(region=REGION, municipality=MUNICIPALITY, school=OTHER_SCHOOL),
            True,
        ),
        (
            AccessRole.MUNICIPALITY_VIEWER,
            TenantKeys(region=REGION, municipality=OTHER_MUNICIPALITY),
            False,
        ),
        (
            AccessRole.SCHOOL_CURATOR,
            TenantKeys(region=REGION, municipality=MUNICIPALITY, school=SCHOOL),
            True,
        ),
        (
            AccessRole.SCHOOL_SYSTEM,
            TenantKeys(region=REGION, municipality=MUNICIPALITY, school=OTHER_SCHOOL),
            False,
        ),
        (AccessRole.SCHOOL_SYSTEM, TenantKeys(region=REGION, municipality=MUNICIPALITY), False),
    ],
)
def test_read_scope(role: AccessRole, tenant: TenantKeys, readable: bool) -> None:
    assert principal(role).can_read(tenant) is readable


def test_only_a_schools_own_tokens_write_its_data() -> None:
    assert principal(AccessRole.SCHOOL_SYSTEM).can_write_school(SCHOOL)
    assert principal(AccessRole.SCHOOL_CURATOR).can_write_school(SCHOOL)
    assert not principal(AccessRole.SCHOOL_SYSTEM).can_write_school(OTHER_SCHOOL)
    assert not principal(AccessRole.REGION_ADMIN).can_write_school(SCHOOL)
    assert not principal(AccessRole.MUNICIPALITY_VIEWER).can_write_school(SCHOOL)
    with pytest.raises(ProblemError):
        principal(AccessRole.SCHOOL_SYSTEM).require(AccessRole.REGION_ADMIN)

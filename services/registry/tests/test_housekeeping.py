"""Registry's housekeeping: expired Idempotency-Key answers (which may quote personal data)
are deleted when the service starts and hourly after, not only when their caller returns."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from nastavnik.common import db, migrations
from nastavnik.common.idempotency import idempotency_keys
from nastavnik.common.testing.plugin import Infrastructure, create_database, service_settings
from nastavnik.registry.bootstrap import MIGRATIONS, create_app

pytestmark = pytest.mark.integration


async def test_expired_answers_are_purged_at_start_and_live_ones_kept(
    infrastructure: Infrastructure, clean_nats: str
) -> None:
    url = await create_database(infrastructure, "registry")
    await migrations.upgrade_async(MIGRATIONS, url)
    engine = db.create_engine(url, pool_size=1)
    now = datetime.now(UTC)
    row = {
        "fingerprint": "f" * 64,
        "method": "POST",
        "path": "/api/v1/participants",
        "status": 201,
        "headers": "{}",
        "body": "Иванова".encode(),
    }
    async with engine.begin() as conn:
        await conn.execute(
            insert(idempotency_keys),
            [
                row | {"caller": "t1", "key": "old", "expires_at": now - timedelta(hours=1)},
                row | {"caller": "t1", "key": "new", "expires_at": now + timedelta(hours=1)},
            ],
        )

    async def keys() -> list[str]:
        async with engine.connect() as conn:
            return list((await conn.scalars(select(idempotency_keys.c.key))).all())

    app = create_app(service_settings(infrastructure, "registry", url, relay_enabled=False))
    async with app.router.lifespan_context(app):
        for _ in range(1200):  # a bound so a broken job fails the test, not a speed claim
            if await keys() == ["new"]:
                break
            await asyncio.sleep(0.05)
        remaining = await keys()
    async with engine.connect() as conn:
        total = await conn.scalar(select(func.count()).select_from(idempotency_keys))
    await engine.dispose()

    assert remaining == ["new"]
    assert total == 1

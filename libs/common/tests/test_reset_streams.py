"""The test plugin's ``reset_streams``: every stream emptied and provisioned again, even when
nats-server refuses a stream's creation once (it did, on a loaded machine, right after the
deletions)."""

from __future__ import annotations

from typing import Any

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.errors import ServerError

from nastavnik.common.contracts import streams
from nastavnik.common.provisioning import provision_streams
from nastavnik.common.testing import plugin
from nastavnik.common.testing.plugin import reset_streams

pytestmark = pytest.mark.integration


async def stream_messages(nats_url: str) -> dict[str, int]:
    client = await nats.connect(nats_url)
    try:
        return {
            info.config.name or "": info.state.messages
            for info in await client.jetstream().streams_info()
        }
    finally:
        await client.close()


async def test_a_refused_creation_is_tried_again(
    clean_nats: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    provision = provision_streams
    calls = 0

    async def refused_once(js: JetStreamContext, *args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await provision(js, *args)  # some streams exist, then the server refuses one
            raise ServerError(code=500, err_code=10049, description="error creating store")
        await provision(js, *args)

    client = await nats.connect(clean_nats)
    try:
        await client.jetstream().publish(f"{streams.REGISTRY.subject_prefix}x", b"left over")
    finally:
        await client.close()
    monkeypatch.setattr(plugin, "provision_streams", refused_once)

    await reset_streams(clean_nats)

    assert calls == 2
    assert await stream_messages(clean_nats) == {spec.name: 0 for spec in streams.ALL_STREAMS}

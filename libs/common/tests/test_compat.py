"""The fetch-timeout shim: an empty fetch raises the error FastStream's pull loop expects."""

from __future__ import annotations

import nats.errors
import pytest
from nats.aio.client import Client

from nastavnik.common.compat import install_fetch_timeout_shim
from nastavnik.common.contracts import streams

pytestmark = pytest.mark.integration


async def test_an_empty_fetch_raises_nats_timeout_error(nats_client: Client) -> None:
    install_fetch_timeout_shim()
    install_fetch_timeout_shim()  # idempotent
    js = nats_client.jetstream()
    subscription = await js.pull_subscribe("registry.>", stream=streams.REGISTRY.name)
    with pytest.raises(nats.errors.TimeoutError):
        await subscription.fetch(10, timeout=0.2)

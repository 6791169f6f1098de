"""Compatibility between FastStream 0.7 and nats-py 2.16 pull fetches.

nats-py's ``PullSubscription.fetch`` raises a plain ``asyncio.TimeoutError`` when no message
arrives in time, while FastStream's pull loops only catch ``nats.errors.TimeoutError`` (a
subclass). The uncaught error kills FastStream's consume task mid-batch: messages already fetched
for that batch are neither handled nor acknowledged until ``ack_wait`` brings them back, a stall
of a minute. The shim re-raises the timeout as ``nats.errors.TimeoutError``, which FastStream
treats as "no messages yet".
"""

from __future__ import annotations

import functools
from typing import Any

import nats.errors
from nats.js.client import JetStreamContext

_SHIM_MARK = "_nastavnik_timeout_shim"


def install_fetch_timeout_shim() -> None:
    """Idempotent; call before FastStream subscribers start."""
    subscription_class = JetStreamContext.PullSubscription
    original = subscription_class.fetch
    if getattr(original, _SHIM_MARK, False):
        return

    @functools.wraps(original)
    async def fetch(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(self, *args, **kwargs)
        except nats.errors.TimeoutError:
            raise
        except TimeoutError as error:  # what nats-py raises: asyncio.TimeoutError
            raise nats.errors.TimeoutError from error

    setattr(fetch, _SHIM_MARK, True)
    subscription_class.fetch = fetch  # type: ignore[method-assign]

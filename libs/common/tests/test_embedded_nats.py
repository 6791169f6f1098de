"""The embedded NATS server runs JetStream with the sync interval it is configured for (read
back from the server's own /varz, not from our config text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from nastavnik.common.embedded import EmbeddedNats, free_port

pytestmark = pytest.mark.integration

TWO_MINUTES_NS = 120 * 10**9


def jetstream_config(data_dir: Path, *, sync_always: bool) -> dict[str, Any]:
    server = EmbeddedNats(
        data_dir, port=free_port(), monitor_port=free_port(), sync_always=sync_always
    )
    server.start()
    try:
        varz = httpx.get(f"http://127.0.0.1:{server.monitor_port}/varz", timeout=30).json()
    finally:
        server.stop()
    config: dict[str, Any] = varz["jetstream"]["config"]
    return config


def test_the_default_sync_interval_is_two_minutes(tmp_path: Path) -> None:
    config = jetstream_config(tmp_path, sync_always=False)

    assert config.get("sync_interval") == TWO_MINUTES_NS
    assert not config.get("sync_always")
    assert "invalid use of field" not in (tmp_path / "nats.log").read_text()


def test_sync_always_fsyncs_every_write(tmp_path: Path) -> None:
    config = jetstream_config(tmp_path, sync_always=True)

    assert config.get("sync_always") is True

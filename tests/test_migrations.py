"""Every service's schema history has exactly one head (parallel branches get merged)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from nastavnik.common.migrations import alembic_config

ROOT = Path(__file__).parents[1]
SERVICES = ("registry", "matching", "monitoring", "notifications")


@pytest.mark.parametrize("service", SERVICES)
def test_one_migration_head(service: str) -> None:
    folder = ROOT / "services" / service / "src" / "nastavnik" / service / "migrations"
    script = ScriptDirectory.from_config(alembic_config(folder, "postgresql+asyncpg://unused/db"))
    assert len(script.get_heads()) == 1, f"merge the heads {script.get_heads()} of {service}"

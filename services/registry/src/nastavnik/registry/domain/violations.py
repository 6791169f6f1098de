"""A broken rule: the field at fault and what to do about it (Russian). No I/O here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    field: str
    message: str

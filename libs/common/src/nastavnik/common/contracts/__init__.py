"""Event contracts: streams, subjects, the envelope and every event's versioned model."""

from nastavnik.common.contracts.envelope import Envelope, TenantKeys
from nastavnik.common.contracts.events import EVENTS_BY_TYPE, EventSpec

__all__ = ["EVENTS_BY_TYPE", "Envelope", "EventSpec", "TenantKeys"]

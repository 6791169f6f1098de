"""Partnerships: a school linked to a college, employer or other partner that provides mentors
(forms «студент – ученик», «работодатель – ученик»). No I/O here.

A partnership is open until it is ended; ending it may name a date in the future (the
agreement runs until then). A pair has at most one open partnership; after one has ended, a
new one may start the day after its end.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from nastavnik.common.contracts.events import PartnershipEnded, PartnershipFormed
from nastavnik.registry.domain.organisations import EDUCATIONAL_KINDS, Organisation


class PartnershipError(ValueError):
    """A rule of partnerships is broken (message in Russian); ``field`` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def check_pair(school: Organisation, partner: Organisation) -> None:
    """A school (or college) and a partner of the same region, both open."""
    if school.kind not in EDUCATIONAL_KINDS:
        raise PartnershipError("school_id", "партнёрство заключает школа или колледж")
    if not partner.is_partner:
        raise PartnershipError(
            "partner_id", "партнёром может быть колледж, работодатель или другой партнёр"
        )
    if partner.id == school.id:
        raise PartnershipError("partner_id", "организация не может быть партнёром самой себе")
    if partner.region_id != school.region_id:
        raise PartnershipError("partner_id", "партнёр должен быть из того же региона")
    for field, organisation in (("school_id", school), ("partner_id", partner)):
        if not organisation.active:
            raise PartnershipError(
                field,
                f"организация «{organisation.name}» закрыта {organisation.closed_on:%d.%m.%Y}",
            )


@dataclass
class Partnership:
    id: uuid.UUID
    school_id: uuid.UUID
    partner_id: uuid.UUID
    started_on: date
    ended_on: date | None = None
    version: int = 1

    @classmethod
    def form(
        cls,
        school: Organisation,
        partner: Organisation,
        started_on: date,
        previous_end: date | None,
    ) -> tuple[Partnership, PartnershipFormed]:
        """A new partnership of the pair; ``previous_end`` is the end of the pair's last one."""
        check_pair(school, partner)
        if previous_end is not None and started_on <= previous_end:
            message = f"прежнее партнёрство этих организаций действует до {previous_end:%d.%m.%Y}"
            if previous_end < date.max:
                first = previous_end + timedelta(days=1)
                message += f"; новое может начаться не раньше {first:%d.%m.%Y}"
            raise PartnershipError("started_on", message)
        partnership = cls(uuid.uuid4(), school.id, partner.id, started_on)
        formed = PartnershipFormed(
            partnership_id=partnership.id,
            school_id=school.id,
            partner_id=partner.id,
            partner_kind=partner.kind,
            started_on=started_on,
        )
        return partnership, formed

    def active_on(self, day: date) -> bool:
        return self.started_on <= day and (self.ended_on is None or day <= self.ended_on)

    def end(self, on: date, today: date) -> PartnershipEnded | None:
        """End on ``on`` (the last day it is in force). The date of an end that has not come
        yet may be moved; a past end stays. ``None`` when nothing changes."""
        if self.ended_on == on:
            return None
        if self.ended_on is not None and self.ended_on < today:
            raise PartnershipError(
                "ended_on", f"партнёрство уже завершено {self.ended_on:%d.%m.%Y}"
            )
        if on < self.started_on:
            raise PartnershipError(
                "ended_on",
                f"дата окончания раньше начала партнёрства ({self.started_on:%d.%m.%Y})",
            )
        self.ended_on = on
        self.version += 1
        return PartnershipEnded(
            partnership_id=self.id,
            school_id=self.school_id,
            partner_id=self.partner_id,
            ended_on=on,
        )

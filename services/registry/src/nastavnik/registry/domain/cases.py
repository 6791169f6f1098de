"""Best-practice cases: stories of pairs and programmes a school publishes for the whole
region to read. No I/O here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from nastavnik.common.contracts.events import CasePublished, CaseUpdated, CaseWithdrawn
from nastavnik.registry.domain.participants import Violation

MAX_TITLE = 300
MAX_TEXT = 20_000
MAX_LINKS = 20
MAX_LINK = 2000


@dataclass(frozen=True)
class CaseSubmission:
    external_id: str
    title: str
    form: str  # code or title
    text: str
    links: tuple[str, ...] = ()
    programme_external_id: str | None = None


@dataclass(frozen=True)
class CaseDetails:
    title: str
    form: str  # a code of the region's forms
    text: str
    links: tuple[str, ...] = ()
    programme_id: uuid.UUID | None = None


def check_case(details: CaseDetails) -> list[Violation]:
    violations: list[Violation] = []
    if not details.title.strip():
        violations.append(Violation("title", "укажите название кейса"))
    if len(details.title) > MAX_TITLE:
        violations.append(Violation("title", f"название длиннее {MAX_TITLE} символов"))
    if not details.text.strip():
        violations.append(Violation("text", "опишите практику"))
    if len(details.text) > MAX_TEXT:
        violations.append(Violation("text", f"текст длиннее {MAX_TEXT} символов"))
    if len(details.links) > MAX_LINKS:
        violations.append(Violation("links", f"не более {MAX_LINKS} ссылок"))
    for link in details.links:
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(link) > MAX_LINK:
            violations.append(
                Violation(
                    "links", f"ссылка «{link[:100]}» должна начинаться с http:// или https://"
                )
            )
    return violations


@dataclass
class Case:
    id: uuid.UUID
    school_id: uuid.UUID
    external_id: str
    details: CaseDetails
    withdrawn: bool = False
    version: int = 1

    @classmethod
    def publish(
        cls, school_id: uuid.UUID, external_id: str, details: CaseDetails
    ) -> tuple[Case, CasePublished]:
        case = cls(uuid.uuid4(), school_id, external_id, details)
        return case, CasePublished(
            case_id=case.id, form=details.form, programme_id=details.programme_id
        )

    def differs_from(self, details: CaseDetails) -> bool:
        return details != self.details or self.withdrawn

    def revise(self, details: CaseDetails) -> CaseUpdated | None:
        if not self.differs_from(details):
            return None
        self.details = replace(details)
        self.withdrawn = False
        self.version += 1
        return CaseUpdated(case_id=self.id, form=details.form, programme_id=details.programme_id)

    def withdraw(self) -> CaseWithdrawn | None:
        if self.withdrawn:
            return None
        self.withdrawn = True
        self.version += 1
        return CaseWithdrawn(case_id=self.id)

"""Reference lists of a region: forms of mentorship, their role models, the programme's stages.

Every region starts with the defaults below (Р-145 and the methodological recommendations);
its admin adds items, renames them and retires them. A retired item is no longer offered for
new records, but records that already use it stay valid. Codes are stable identifiers; titles
are Russian and may change. No I/O here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from nastavnik.common.contracts.events import (
    ParticipantCategory,
    ReferenceItemAdded,
    ReferenceItemUpdated,
    ReferenceKind,
)
from nastavnik.registry.domain.participants import Violation

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_ITEM_NAMESPACE = uuid.UUID("5f0c2a52-4c1e-4f7e-9a51-0e6f4bb1d0a7")
_DASHES = re.compile(r"\s*[-‐‑‒–—―]\s*")
_NOT_WORD = re.compile(r"[^\w]+")

# what an item is called in messages, and the ending of its past participles (gender)
KIND_TITLES = {
    ReferenceKind.FORM: ("форма наставничества", "а"),
    ReferenceKind.ROLE_MODEL: ("ролевая модель", "а"),
    ReferenceKind.STAGE: ("этап программы", ""),
}

S = ParticipantCategory


class ReferenceError(ValueError):
    """A change of a reference list that breaks its rules (message in Russian)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ReferenceItem:
    kind: ReferenceKind
    code: str
    title: str
    position: int
    form: str | None = None  # role models: the code of the form they belong to
    mentor_categories: tuple[ParticipantCategory, ...] = ()  # forms: who may mentor (any if ())
    mentee_categories: tuple[ParticipantCategory, ...] = ()  # forms: who may be mentored
    retired: bool = False
    version: int = 1
    is_default: bool = False

    def item_id(self, region_id: uuid.UUID) -> uuid.UUID:
        """A stable id per region, for events and the audit trail (defaults have no row)."""
        return uuid.uuid5(_ITEM_NAMESPACE, f"{region_id}/{self.kind.value}/{self.code}")

    def added_event(self) -> ReferenceItemAdded:
        return ReferenceItemAdded(
            kind=self.kind,
            code=self.code,
            title=self.title,
            position=self.position,
            form=self.form,
            mentor_categories=list(self.mentor_categories),
            mentee_categories=list(self.mentee_categories),
        )

    def updated_event(self) -> ReferenceItemUpdated:
        return ReferenceItemUpdated(
            kind=self.kind,
            code=self.code,
            title=self.title,
            position=self.position,
            retired=self.retired,
            mentor_categories=list(self.mentor_categories),
            mentee_categories=list(self.mentee_categories),
        )


def _form(
    code: str,
    title: str,
    position: int,
    mentors: tuple[ParticipantCategory, ...],
    mentees: tuple[ParticipantCategory, ...],
) -> ReferenceItem:
    return ReferenceItem(
        ReferenceKind.FORM, code, title, position, None, mentors, mentees, is_default=True
    )


def _role_models(form: str, titles: Iterable[tuple[str, str]]) -> list[ReferenceItem]:
    return [
        ReferenceItem(
            ReferenceKind.ROLE_MODEL, f"{form}.{code}", title, n, form=form, is_default=True
        )
        for n, (code, title) in enumerate(titles, start=1)
    ]


_ALUMNUS = S.ALUMNUS

DEFAULT_FORMS = (
    _form("student_student", "ученик – ученик", 1, (S.STUDENT, _ALUMNUS), (S.STUDENT,)),
    _form("teacher_teacher", "учитель – учитель", 2, (S.TEACHER,), (S.TEACHER,)),
    _form(
        "college_student_student",
        "студент – ученик",
        3,
        (S.COLLEGE_STUDENT, _ALUMNUS),
        (S.STUDENT,),
    ),
    _form(
        "employer_student",
        "работодатель – ученик",
        4,
        (S.EMPLOYER_REPRESENTATIVE, _ALUMNUS),
        (S.STUDENT,),
    ),
    _form(
        "college_student_college_student",
        "студент – студент",
        5,
        (S.COLLEGE_STUDENT, _ALUMNUS),
        (S.COLLEGE_STUDENT,),
    ),
    _form(
        "employer_college_student",
        "работодатель – студент",
        6,
        (S.EMPLOYER_REPRESENTATIVE, _ALUMNUS),
        (S.COLLEGE_STUDENT,),
    ),
    _form(
        "teacher_college_student",
        "педагог – студент",
        7,
        (S.TEACHER,),
        (S.COLLEGE_STUDENT,),
    ),
)

_PEER_MODELS = (
    ("achiever_underachiever", "успевающий – неуспевающий"),
    ("leader_passive", "лидер – пассивный"),
    ("peer_to_peer", "равный – равному"),
    ("adapted_unadapted", "адаптированный – неадаптированный"),
)
_EMPLOYER_MODELS = (
    ("professional_consumer", "активный профессионал – равнодушный потребитель"),
    ("colleague_young_colleague", "коллега – молодой коллега"),
    ("employer_future_employee", "работодатель – будущий сотрудник"),
)

DEFAULT_ROLE_MODELS = (
    *_role_models("student_student", _PEER_MODELS),
    *_role_models(
        "teacher_teacher",
        (
            ("experienced_young_specialist", "опытный педагог – молодой специалист"),
            (
                "class_teacher_young_specialist",
                "опытный классный руководитель – молодой специалист",
            ),
            ("leader_struggling", "лидер – педагог с проблемами"),
            ("innovator_conservative", "новатор – консервативный педагог"),
            ("subject_expert_novice", "опытный предметник – неопытный предметник"),
        ),
    ),
    *_role_models(
        "college_student_student",
        (
            ("achiever_underachiever", "успевающий – неуспевающий"),
            ("leader_indifferent", "лидер – равнодушный"),
            ("peer_to_peer", "равный – другому"),
            ("curator_project_author", "куратор – автор проекта"),
        ),
    ),
    *_role_models("employer_student", _EMPLOYER_MODELS),
    *_role_models("college_student_college_student", _PEER_MODELS),
    *_role_models("employer_college_student", _EMPLOYER_MODELS),
    *_role_models(
        "teacher_college_student",
        (
            ("teacher_trainee", "педагог – студент-практикант"),
            ("curator_project_author", "куратор – автор проекта"),
        ),
    ),
)

# The stages of a programme in Р-145 (25.12.2019), in order.
DEFAULT_STAGES = tuple(
    ReferenceItem(ReferenceKind.STAGE, code, title, n, is_default=True)
    for n, (code, title) in enumerate(
        (
            ("conditions", "Подготовка условий для запуска программы наставничества"),
            ("mentee_register", "Формирование базы наставляемых"),
            ("mentor_register", "Формирование базы наставников"),
            ("mentor_training", "Отбор и обучение наставников"),
            ("matching", "Формирование наставнических пар или групп"),
            ("pairs_work", "Организация работы наставнических пар или групп"),
            ("completion", "Завершение программы наставничества"),
        ),
        start=1,
    )
)

DEFAULTS: tuple[ReferenceItem, ...] = (*DEFAULT_FORMS, *DEFAULT_ROLE_MODELS, *DEFAULT_STAGES)


def comparable(text: str) -> str:
    """A title as compared when a school writes it: case, ``ё``, dashes and spaces ignored."""
    folded = _DASHES.sub("-", text.casefold().replace("ё", "е").strip())
    return _NOT_WORD.sub(" ", folded).strip()


@dataclass(frozen=True)
class Catalog:
    """A region's reference lists: the defaults with the region's own changes over them."""

    items: Mapping[tuple[ReferenceKind, str], ReferenceItem]

    @classmethod
    def build(cls, stored: Iterable[ReferenceItem]) -> Catalog:
        items = {(item.kind, item.code): item for item in DEFAULTS}
        for item in stored:  # the region's own rows: new items, or changed defaults
            default = items.get((item.kind, item.code))
            items[(item.kind, item.code)] = replace(item, is_default=default is not None)
        return cls(items)

    def get(self, kind: ReferenceKind, code: str) -> ReferenceItem | None:
        return self.items.get((kind, code))

    def list(
        self, kind: ReferenceKind, *, include_retired: bool = True, form: str | None = None
    ) -> list[ReferenceItem]:
        found = [
            item
            for (item_kind, _), item in self.items.items()
            if item_kind == kind
            and (include_retired or not item.retired)
            and (form is None or item.form == form)
        ]
        return sorted(found, key=lambda item: (item.form or "", item.position, item.code))

    def first_stage(self) -> ReferenceItem | None:
        stages = self.list(ReferenceKind.STAGE, include_retired=False)
        return stages[0] if stages else None

    def resolve(
        self, kind: ReferenceKind, text: str, *, form: str | None = None
    ) -> ReferenceItem | None:
        """The item a school means: its code, its title (any case, ``ё``, dashes), or, for a
        stage, its number. Role models are looked up within ``form`` when given."""
        candidates = self.list(kind, form=form)
        raw = text.strip()
        for item in candidates:
            if item.code == raw or (form and item.code == f"{form}.{raw}"):
                return item
        wanted = comparable(raw)
        matches = [item for item in candidates if comparable(item.title) == wanted]
        active = [item for item in matches if not item.retired]
        if len(active) == 1 or (len(matches) == 1 and not active):
            return (active or matches)[0]
        if kind == ReferenceKind.STAGE and raw.isdigit():
            numbered = self.list(kind, include_retired=False)
            index = int(raw) - 1
            if 0 <= index < len(numbered):
                return numbered[index]
        return None

    def choose(
        self,
        kind: ReferenceKind,
        field: str,
        text: str,
        *,
        current: str | None = None,
        form: str | None = None,
    ) -> ReferenceItem | Violation:
        """The item for a record's field, or why it cannot be used. A retired item is kept
        only by a record that already has it (``current``)."""
        item = self.resolve(kind, text, form=form)
        name, ending = KIND_TITLES[kind]
        if item is None:
            offered = [i.title for i in self.list(kind, include_retired=False, form=form)]
            if kind == ReferenceKind.STAGE:  # a stage may be given by its number (``resolve``)
                allowed = "номер этапа или его название: " + "; ".join(
                    f"{number} — «{title}»" for number, title in enumerate(offered, start=1)
                )
            else:
                allowed = "; ".join(f"«{title}»" for title in offered[:12])
            scope = f" формы «{self._title(ReferenceKind.FORM, form)}»" if form else ""
            return Violation(
                field,
                f"{name} «{text}» не найден{ending} в справочнике региона{scope}"
                + (f"; допустимо: {allowed}" if allowed else ""),
            )
        if item.retired and item.code != current:
            return Violation(
                field,
                f"{name} «{item.title}» выведен{ending} из справочника региона; "
                "выберите действующее значение",
            )
        return item

    def _title(self, kind: ReferenceKind, code: str | None) -> str:
        item = self.get(kind, code) if code else None
        return item.title if item else str(code)

    # --- the region admin's changes ----------------------------------------------------------

    def add(
        self,
        kind: ReferenceKind,
        code: str,
        title: str,
        *,
        position: int | None = None,
        form: str | None = None,
        mentor_categories: tuple[ParticipantCategory, ...] = (),
        mentee_categories: tuple[ParticipantCategory, ...] = (),
    ) -> ReferenceItem:
        if not CODE_PATTERN.match(code):
            raise ReferenceError(
                "code",
                "код: строчные латинские буквы, цифры, «_», «.» или «-», до 64 символов",
            )
        if (kind, code) in self.items:
            raise ReferenceError("code", f"код «{code}» уже есть в справочнике региона")
        self._check_title(kind, title, form, code)
        if kind == ReferenceKind.ROLE_MODEL:
            owner = self.get(ReferenceKind.FORM, form) if form else None
            if owner is None or owner.retired:
                raise ReferenceError("form", "укажите действующую форму наставничества (form)")
        elif form is not None:
            raise ReferenceError("form", "форма указывается только для ролевой модели")
        if kind != ReferenceKind.FORM and (mentor_categories or mentee_categories):
            raise ReferenceError(
                "mentor_categories", "категории участников указываются только для формы"
            )
        siblings = self.list(kind, form=form)
        return ReferenceItem(
            kind=kind,
            code=code,
            title=title,
            position=position or max((i.position for i in siblings), default=0) + 1,
            form=form,
            mentor_categories=mentor_categories,
            mentee_categories=mentee_categories,
        )

    def change(
        self,
        kind: ReferenceKind,
        code: str,
        *,
        title: str | None = None,
        retired: bool | None = None,
        position: int | None = None,
        mentor_categories: tuple[ParticipantCategory, ...] | None = None,
        mentee_categories: tuple[ParticipantCategory, ...] | None = None,
    ) -> ReferenceItem | None:
        """The item after a rename, retirement or restoration; ``None`` if nothing changes.
        ``KeyError`` if there is no such item."""
        item = self.items[(kind, code)]
        if kind != ReferenceKind.FORM and (
            mentor_categories is not None or mentee_categories is not None
        ):
            raise ReferenceError(
                "mentor_categories", "категории участников указываются только для формы"
            )
        if title is not None and title != item.title:
            self._check_title(kind, title, item.form, code)
        if kind == ReferenceKind.STAGE and retired and not item.retired:
            active = self.list(kind, include_retired=False)
            if len(active) <= 1:
                raise ReferenceError("retired", "в справочнике должен остаться хотя бы один этап")
        changed = replace(
            item,
            title=item.title if title is None else title,
            retired=item.retired if retired is None else retired,
            position=item.position if position is None else position,
            mentor_categories=(
                item.mentor_categories if mentor_categories is None else mentor_categories
            ),
            mentee_categories=(
                item.mentee_categories if mentee_categories is None else mentee_categories
            ),
        )
        if changed == item:
            return None
        return replace(changed, version=item.version + 1)

    def _check_title(self, kind: ReferenceKind, title: str, form: str | None, code: str) -> None:
        wanted = comparable(title)
        for other in self.list(kind, form=form):
            if other.code != code and comparable(other.title) == wanted:
                raise ReferenceError(
                    "title", f"название «{title}» уже есть в справочнике (код «{other.code}»)"
                )


class ReferenceList(StrEnum):
    """The lists as the HTTP API names them."""

    FORMS = "forms"
    ROLE_MODELS = "role-models"
    STAGES = "stages"

    @property
    def kind(self) -> ReferenceKind:
        return {
            ReferenceList.FORMS: ReferenceKind.FORM,
            ReferenceList.ROLE_MODELS: ReferenceKind.ROLE_MODEL,
            ReferenceList.STAGES: ReferenceKind.STAGE,
        }[self]

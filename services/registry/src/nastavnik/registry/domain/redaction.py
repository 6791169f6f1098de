"""A person's name inside free text that a school wrote (a roadmap step's «Ответственный»),
found in the forms Russian documents use, so that the erasure of the person can blank it
there too. No I/O here.

The forms: «Фамилия Имя Отчество», «Имя Отчество Фамилия», «Фамилия Имя», «Имя Фамилия»,
«Фамилия И.О.», «Фамилия И. О.», «И.О. Фамилия», «Фамилия И.», «И. Фамилия»; in any case, with
«ё» and «е» alike. Not found: a name declined into another case («Жукову О.И.»), and the surname
alone (it would blank a namesake). A namesake with the same initials is blanked too: for an
erasure, blanking too much is the safe side.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

REDACTED = "[данные удалены]"


@dataclass(frozen=True)
class PersonName:
    last: str
    first: str
    middle: str | None = None


def _fold(text: str) -> str:
    """Lower case with «ё» as «е», of the same length as ``text`` (so spans carry over)."""
    folded = text.lower()
    if len(folded) != len(text):  # a letter whose lower case is two characters
        folded = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return folded.replace("ё", "е")


def _word(value: str) -> str:
    # a double surname or a name may hold a hyphen or spaces: any run of spaces matches
    return r"\s+".join(re.escape(part) for part in _fold(value).split())


def _forms(name: PersonName) -> list[str]:
    last, first = _word(name.last), _word(name.first)
    first_initial = re.escape(_fold(name.first.strip())[0]) + r"\."
    forms: list[str] = []
    if name.middle and name.middle.strip():
        middle = _word(name.middle)
        initials = first_initial + r"\s*" + re.escape(_fold(name.middle.strip())[0]) + r"\."
        forms += [
            rf"{last}\s+{first}\s+{middle}",
            rf"{first}\s+{middle}\s+{last}",
            rf"{last}\s+{initials}",
            rf"{initials}\s*{last}",
        ]
    # the longer forms come first: the alternation takes the first form that matches; a
    # lone initial must not be another person's second one («Жуков О.П.», «П. О. Жуков»)
    forms += [
        rf"{last}\s+{first}",
        rf"{first}\s+{last}",
        rf"{last}\s+{first_initial}(?!\s*\w\.)",
        rf"(?<!\w\.\s){first_initial}\s*{last}",
    ]
    return forms


def name_pattern(name: PersonName) -> re.Pattern[str]:
    """Matches the person's name in folded text (see ``_fold``), as whole words."""
    return re.compile(r"(?<![\w.])(?:" + "|".join(_forms(name)) + r")(?!\w)")


def redact(text: str, name: PersonName) -> str | None:
    """``text`` with every mention of the person replaced by ``REDACTED``; ``None`` when it
    does not mention them."""
    if not name.last.strip() or not name.first.strip():
        return None
    spans = [match.span() for match in name_pattern(name).finditer(_fold(text))]
    if not spans:
        return None
    parts: list[str] = []
    position = 0
    for start, end in spans:
        parts += [text[position:start], REDACTED]
        position = end
    parts.append(text[position:])
    return "".join(parts)


def text_digest(owner: uuid.UUID, text: str) -> str:
    """A fingerprint of a text as a school sent it, salted with the record it belongs to: the
    record keeps it in place of a text it redacted, to know that text again when the school
    sends it once more."""
    return hashlib.sha256(owner.bytes + text.encode()).hexdigest()

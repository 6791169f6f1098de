"""The one error of the intake: the file as a whole cannot be read (message in Russian)."""

from __future__ import annotations


class IntakeError(ValueError):
    """The file cannot be read at all: unknown format, no header, missing columns, bad JSON.

    Row-level problems never raise: they become rejected rows.
    """

    def __init__(self, message: str, *, field: str = "file") -> None:
        super().__init__(message)
        self.message = message
        self.field = field

"""Tables written for Excel as Russian offices use it: XLSX, or CSV in UTF-8 with a BOM and «;»
(what Excel opens by a double click), dates as DD.MM.YYYY. Rows are written as they come, so a
long table never sits in memory at once (openpyxl's write-only mode)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from enum import StrEnum
from typing import IO, Any, Protocol

Cell = str | int | float | date | None

DATE_FORMAT = "DD.MM.YYYY"
REPLACEMENT = "\ufffd"  # for a character a format cannot hold


class TableFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"

    @property
    def media_type(self) -> str:
        if self is TableFormat.CSV:
            return "text/csv; charset=utf-8"
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class TableWriter(Protocol):
    def write(self, rows: Iterable[Sequence[Cell]]) -> None: ...

    def close(self) -> None:
        """Finish the file (the file object itself stays open)."""


class _CsvWriter:
    def __init__(self, file: IO[bytes], header: Sequence[str]) -> None:
        self._text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._text, delimiter=";")
        self._writer.writerow(header)

    def write(self, rows: Iterable[Sequence[Cell]]) -> None:
        self._writer.writerows([_csv_cell(cell) for cell in row] for row in rows)

    def close(self) -> None:
        self._text.flush()
        self._text.detach()  # leave the binary file open for the caller


def _csv_cell(cell: Cell) -> Any:
    return f"{cell:%d.%m.%Y}" if isinstance(cell, date) else cell


class _XlsxWriter:
    def __init__(self, file: IO[bytes], title: str, header: Sequence[str]) -> None:
        from openpyxl import Workbook  # only for a workbook: the upload tool starts faster
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.styles import Font

        self._file = file
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title[:31])  # Excel's limit on a sheet's name
        self._sheet.freeze_panes = "A2"
        self._cell = WriteOnlyCell
        self._illegal = ILLEGAL_CHARACTERS_RE
        bold = Font(bold=True)
        titles = []
        for letter, heading in zip(_letters(len(header)), header, strict=True):
            self._sheet.column_dimensions[letter].width = min(max(len(heading) + 2, 10), 40)
            cell = WriteOnlyCell(self._sheet, value=heading)
            cell.font = bold
            titles.append(cell)
        self._sheet.append(titles)

    def write(self, rows: Iterable[Sequence[Cell]]) -> None:
        for row in rows:
            self._sheet.append([self._value(cell) for cell in row])

    def _value(self, value: Cell) -> Any:
        if isinstance(value, str):
            # control characters that XLSX cannot hold (a school's system sent them once):
            # each shown as U+FFFD rather than failing the whole file
            return self._illegal.sub(REPLACEMENT, value)
        if not isinstance(value, date):
            return value
        cell = self._cell(self._sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell

    def close(self) -> None:
        self._book.save(self._file)


def _letters(count: int) -> list[str]:
    from openpyxl.utils import get_column_letter

    return [get_column_letter(index) for index in range(1, count + 1)]


def open_table(
    file: IO[bytes], table_format: TableFormat, title: str, header: Sequence[str]
) -> TableWriter:
    """A writer of a table with this header into ``file`` (a sheet named ``title``)."""
    if table_format is TableFormat.CSV:
        return _CsvWriter(file, header)
    return _XlsxWriter(file, title, header)

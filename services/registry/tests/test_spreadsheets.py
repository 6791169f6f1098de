"""The table writer of the registers and the upload tool's report (no database)."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook

from nastavnik.registry.adapters.spreadsheets import TableFormat, open_table

HEADER = ["Программа", "Дата входа в программу"]
ROW = ["П\x03-1\x1f", date(2025, 9, 16)]  # control characters a school's system once sent


def written(table_format: TableFormat) -> bytes:
    file = io.BytesIO()
    writer = open_table(file, table_format, "Реестр наставляемых", HEADER)
    writer.write([ROW])
    writer.close()
    return file.getvalue()


def test_xlsx_replaces_the_characters_it_cannot_hold_instead_of_failing() -> None:
    sheet = load_workbook(io.BytesIO(written(TableFormat.XLSX))).worksheets[0]

    assert sheet.title == "Реестр наставляемых"
    assert [cell.value for cell in sheet[1]] == HEADER
    name, entered = sheet[2]
    assert name.value == "П\ufffd-1\ufffd"
    assert entered.value.date() == date(2025, 9, 16)
    assert entered.number_format == "DD.MM.YYYY"


def test_csv_keeps_the_text_as_sent_and_dates_as_russian_offices_write_them() -> None:
    text = written(TableFormat.CSV).decode("utf-8-sig")

    assert list(csv.reader(io.StringIO(text, newline=""), delimiter=";")) == [
        HEADER,
        ["П\x03-1\x1f", "16.09.2025"],
    ]

"""Streaming readers of the files schools send: CSV (as Russian Excel saves it), XLSX, JSON.

Each reader takes a binary stream and yields one ``SourceRow`` at a time, so a large file is
never held in memory; only the header and the current row are. No I/O beyond reading the
stream. A problem with the file as a whole (unknown format, no header, broken JSON) raises
``IntakeError``; a problem with one row travels with that row.

Row numbers are the ones the operator sees: for CSV and XLSX the spreadsheet's row number (the
header is usually row 1, so the first participant is row 2); for JSON the position in the list
starting at 1.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePath
from typing import IO, Protocol
from xml.etree.ElementTree import ParseError

from nastavnik.registry.domain.participants import Violation
from nastavnik.registry.intake.columns import PARTICIPANT_COLUMNS, ColumnLayout, Header
from nastavnik.registry.intake.errors import IntakeError
from nastavnik.registry.intake.values import is_blank

BinaryStream = IO[bytes]

SAMPLE_SIZE = 64 * 1024
HEADER_SEARCH_ROWS = 10
READ_CHUNK = 64 * 1024
MAX_JSON_ELEMENT = 1024 * 1024  # characters; a participant object is a few hundred
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
DELIMITERS = (";", ",", "\t")

CSV_MEDIA_TYPES = frozenset(
    {"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel", "text/x-csv"}
)
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON_MEDIA_TYPES = frozenset({"application/json", "text/json"})

ENCODING_PROBLEM = (
    "в строке есть символы, которые не удалось прочитать; сохраните файл как "
    "«CSV UTF-8 (разделитель — запятая)» или в кодировке Windows-1251"
)


class IntakeFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


@dataclass(frozen=True)
class SourceRow:
    """One row as read: field name → raw value, and any problem found while reading it."""

    number: int
    values: Mapping[str, object]
    problems: tuple[Violation, ...] = field(default=())


class RowReader(Protocol):
    format: IntakeFormat
    ignored_columns: tuple[str, ...]

    def __iter__(self) -> Iterator[SourceRow]: ...


def _head(stream: BinaryStream, size: int) -> bytes:
    """The first ``size`` bytes; the stream is rewound (readers need a seekable stream)."""
    if not stream.seekable():
        raise TypeError("intake readers need a seekable stream (spool the upload first)")
    start = stream.tell()
    head = stream.read(size)
    stream.seek(start)
    return head


def detect_format(
    stream: BinaryStream, *, content_type: str | None = None, filename: str | None = None
) -> IntakeFormat:
    """Decide by the file's first bytes, then by its media type or name; CSV by default."""
    head = _head(stream, 512)
    if not head.strip():
        raise IntakeError("Файл пуст")
    if head.startswith(XLSX_MAGIC):
        return IntakeFormat.XLSX
    if head.startswith(OLE_MAGIC):
        raise IntakeError(
            "Формат .xls (Excel 97–2003) не поддерживается: сохраните файл как "
            "«Книга Excel (.xlsx)» или «CSV UTF-8»"
        )
    media = (content_type or "").split(";")[0].strip().lower()
    suffix = PurePath(filename).suffix.lower() if filename else ""
    if media == XLSX_MEDIA_TYPE or suffix in (".xlsx", ".xlsm"):
        raise IntakeError("Файл не является книгой Excel (.xlsx) или повреждён")
    if media in JSON_MEDIA_TYPES or suffix == ".json":
        return IntakeFormat.JSON
    if media in CSV_MEDIA_TYPES or suffix in (".csv", ".txt"):
        return IntakeFormat.CSV
    if head.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"["):
        return IntakeFormat.JSON
    return IntakeFormat.CSV


def open_reader(
    stream: BinaryStream,
    *,
    content_type: str | None = None,
    filename: str | None = None,
    columns: ColumnLayout = PARTICIPANT_COLUMNS,
) -> RowReader:
    """The right reader for the stream; it reads the header at once (``IntakeError`` if bad).

    ``columns`` says which kind of record the table holds (participants by default).
    """
    kind = detect_format(stream, content_type=content_type, filename=filename)
    if kind == IntakeFormat.XLSX:
        return XlsxReader(stream, columns)
    if kind == IntakeFormat.JSON:
        return JsonReader(stream, columns)
    return CsvReader(stream, columns)


# --- CSV ---------------------------------------------------------------------------------------


def detect_encoding(sample: bytes, *, complete: bool) -> str:
    """BOM → its encoding; otherwise UTF-8 if the sample decodes as UTF-8, else Windows-1251."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's «Текст Юникод»: tab-separated UTF-16
    try:
        # not final: the sample may end inside a multi-byte character
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
    except UnicodeDecodeError:
        return "cp1251"
    return "utf-8"


_SEP_LINE = re.compile(r'^\ufeff?"?sep=(.)"?\s*$', re.IGNORECASE)


def _split(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _detach(text: io.TextIOWrapper) -> None:
    """Let go of the binary stream without closing it (its owner closes it)."""
    with contextlib.suppress(ValueError):
        text.detach()


class CsvReader:
    """CSV with a header row: UTF-8 (with or without BOM), Windows-1251 or UTF-16; the
    delimiter (``;``, ``,`` or tab) is taken from the header line, or from Excel's ``sep=``
    line. Title lines above the header are skipped (the header is searched for in the first
    ten lines)."""

    format = IntakeFormat.CSV

    def __init__(self, stream: BinaryStream, columns: ColumnLayout = PARTICIPANT_COLUMNS) -> None:
        self.columns = columns
        sample = _head(stream, SAMPLE_SIZE)
        if not sample.strip():
            raise IntakeError("Файл пуст")
        self.encoding = detect_encoding(sample, complete=len(sample) < SAMPLE_SIZE)
        self._text = io.TextIOWrapper(stream, encoding=self.encoding, errors="replace", newline="")
        try:
            self.delimiter, self.header = self._find_header()
        except BaseException:
            _detach(self._text)
            raise
        self.ignored_columns = self.header.ignored

    def _find_header(self) -> tuple[str, Header]:
        forced: str | None = None
        number = 0
        for _ in range(HEADER_SEARCH_ROWS + 1):
            line = self._text.readline()
            if not line:
                break
            if number == 0 and forced is None and (match := _SEP_LINE.match(line)):
                forced = match.group(1)  # Excel's hint; it is not a row of the sheet
                continue
            number += 1
            candidates = (forced,) if forced else DELIMITERS
            scored = [
                (self.columns.recognised_count(cells), len(cells), delimiter, cells)
                for delimiter in candidates
                for cells in [_split(line, delimiter)]
            ]
            recognised, _, delimiter, cells = max(scored, key=lambda item: item[:2])
            if recognised >= 2:
                titled = [index for index, title in enumerate(cells) if title.strip()]
                self._width = titled[-1] + 1  # the cells past it have no column
                return delimiter, self.columns.build_header(number, cells)
        raise IntakeError(
            "Не найдена строка заголовков: в одной из первых строк файла должны быть названия "
            f"столбцов ({self.columns.header_hint} …)"
        )

    def __iter__(self) -> Iterator[SourceRow]:
        reader = csv.reader(self._text, delimiter=self.delimiter)
        number = self.header.row
        try:
            while True:
                number += 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    # the parser has lost its place (an unclosed quote swallows the rows after
                    # it): reading on would drop rows unreported, so the file ends here
                    raise IntakeError(_csv_problem(error, number)) from error
                if all(not cell.strip() for cell in cells):
                    continue
                yield SourceRow(number, self.header.values(cells), self._problems(cells))
        finally:
            _detach(self._text)

    def _problems(self, cells: list[str]) -> tuple[Violation, ...]:
        problems: list[Violation] = []
        if any("\ufffd" in cell for cell in cells):
            problems.append(Violation("row", ENCODING_PROBLEM))
        beyond = [cell.strip() for cell in cells[self._width :] if cell.strip()]
        if beyond:
            # a value right of the last titled column is most often a row whose values shifted
            # (a delimiter inside a value without quotes): every column after the shift then
            # holds its neighbour's value, and the row may still look valid
            problems.append(Violation("row", _shifted_row(beyond, self._width, self.delimiter)))
        return tuple(problems)


def _shifted_row(beyond: list[str], width: int, delimiter: str) -> str:
    shown = beyond[0] if len(beyond[0]) <= 40 else beyond[0][:40] + "…"
    sign = "знак табуляции" if delimiter == "\t" else f"«{delimiter}»"
    return (
        f"в строке есть значения правее последнего столбца с заголовком (столбцов {width}), "
        f"первое из них «{shown}»: вероятно, в одном из значений стоит {sign} без кавычек "
        "и значения сдвинулись в соседние столбцы; исправьте строку (если это примечание, "
        "дайте его столбцу заголовок)"
    )


# --- XLSX --------------------------------------------------------------------------------------

_BROKEN_WORKBOOK = "Файл не удалось открыть как книгу Excel (.xlsx): он повреждён"


class XlsxReader:
    """The sheet of a workbook that holds the register (the one whose first rows have a
    header), read row by row (openpyxl's read-only mode); cached formula results are read, not
    the formulas. Title rows above the header are skipped. A workbook with the register on
    several sheets is refused: reading one would leave the others' rows out unnoticed."""

    format = IntakeFormat.XLSX

    def __init__(self, stream: BinaryStream, columns: ColumnLayout = PARTICIPANT_COLUMNS) -> None:
        from openpyxl import load_workbook

        self.columns = columns
        try:
            self._book = load_workbook(stream, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, ParseError) as error:
            raise IntakeError(_BROKEN_WORKBOOK) from error
        try:
            if not self._book.worksheets:
                raise IntakeError("В книге Excel нет листов с данными")
            self.sheet, self.header, self._rows = self._register_sheet()
        except BaseException:
            self._book.close()
            raise
        self.ignored_columns = self.header.ignored

    def _register_sheet(self) -> tuple[str, Header, Iterator[tuple[object, ...]]]:
        found = []
        for sheet in self._book.worksheets:
            sheet.reset_dimensions()  # some programs write a wrong sheet size; do not trust it
            rows = sheet.iter_rows(min_row=1, values_only=True)
            header = self._find_header(rows)
            if header is not None:
                found.append((sheet.title, header, rows))
        if not found:
            raise IntakeError(
                "Не найдена строка заголовков: в одной из первых строк листа должны быть "
                f"названия столбцов ({self.columns.header_hint} …)"
            )
        if len(found) > 1:
            names = ", ".join(f"«{title}»" for title, _, _ in found)
            raise IntakeError(
                f"Столбцы реестра есть на нескольких листах книги: {names}. Сведите строки на "
                "один лист или загрузите каждый лист отдельным файлом"
            )
        return found[0]

    def _find_header(self, rows: Iterator[tuple[object, ...]]) -> Header | None:
        for number in range(1, HEADER_SEARCH_ROWS + 1):
            cells = next(rows, None)
            if cells is None:
                break
            if self.columns.recognised_count(cells) >= 2:
                return self.columns.build_header(number, cells)
        return None

    def __iter__(self) -> Iterator[SourceRow]:
        number = self.header.row
        try:
            while True:
                try:
                    cells = next(self._rows, None)
                except (zipfile.BadZipFile, KeyError, ValueError, OSError, ParseError) as error:
                    raise IntakeError(
                        f"{_BROKEN_WORKBOOK}; строки после {number}-й не прочитаны"
                    ) from error
                if cells is None:
                    return
                number += 1
                if all(is_blank(cell) for cell in cells):
                    continue
                yield SourceRow(number, self.header.values(cells))
        finally:
            self._book.close()


# --- JSON --------------------------------------------------------------------------------------

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"
# the json module's messages (English), as an operator reads them
_JSON_PROBLEMS = {
    "Expecting value": "ожидается значение",
    "Expecting property name enclosed in double quotes": "имя поля должно быть в двойных кавычках",
    "Expecting ',' delimiter": "ожидается «,»",
    "Expecting ':' delimiter": "ожидается «:»",
    "Unterminated string starting at": "строка не закрыта кавычкой",
    "Invalid control character at": "управляющий символ внутри строки",
    "Invalid \\escape": "неверная escape-последовательность (\\…)",
    "Invalid \\uXXXX escape": "неверная последовательность \\uXXXX",
}


def _csv_problem(error: csv.Error, row: int) -> str:
    unread = f"строки начиная с {row}-й не прочитаны; исправьте файл и загрузите его снова"
    if "field larger than field limit" in str(error):
        # in practice a quote «"» opened and never closed: the rest of the file became one cell
        limit = f"{csv.field_size_limit():,}".replace(",", " ")
        return (
            f"Строка {row} не читается как CSV: ячейка длиннее {limit} символов — вероятно, "
            f'в ней или выше не закрыта кавычка «"»; {unread}'
        )
    return f'Строка {row} не читается как CSV — проверьте кавычки «"»; {unread}'


def _json_problem(error: json.JSONDecodeError) -> str:
    return _JSON_PROBLEMS.get(error.msg, "ошибка синтаксиса")


def iter_json_array(text: IO[str], chunk_size: int = READ_CHUNK) -> Iterator[object]:
    """The elements of a top-level JSON array, decoded one at a time from a text stream."""
    buffer = ""
    position = 0
    eof = False

    def more() -> bool:
        nonlocal buffer, position, eof
        if eof:
            return False
        data = text.read(chunk_size)
        if not data:
            eof = True
            return False
        buffer = buffer[position:] + data
        position = 0
        return True

    def next_char() -> str:
        nonlocal position
        while True:
            while position < len(buffer) and buffer[position] in _WHITESPACE:
                position += 1
            if position < len(buffer):
                return buffer[position]
            if not more():
                return ""

    if next_char() != "[":
        raise IntakeError("Ожидается JSON-массив объектов: [{…}, {…}]")
    position += 1
    if next_char() == "]":
        position += 1
    else:
        index = 0
        while True:
            index += 1
            next_char()
            while True:
                try:
                    value, end = _DECODER.raw_decode(buffer, position)
                except json.JSONDecodeError as error:
                    # an element cut by the chunk boundary: read on, but not without bound
                    if len(buffer) - position <= MAX_JSON_ELEMENT and more():
                        continue
                    offset = error.pos - position + 1
                    raise IntakeError(
                        f"Некорректный JSON в элементе {index}: {_json_problem(error)} "
                        f"(символ {offset} элемента)"
                    ) from None
                if end == len(buffer) and more():
                    continue  # a number at the end of the buffer may go on in the next chunk
                break
            position = end
            yield value
            separator = next_char()
            position += 1
            if separator == "]":
                break
            if separator != ",":
                raise IntakeError(
                    f"Некорректный JSON: после элемента {index} ожидается «,» или «]»"
                )
    if next_char():
        raise IntakeError("Некорректный JSON: лишние данные после закрывающей «]»")


NOT_AN_OBJECT = PARTICIPANT_COLUMNS.json_object
UNKNOWN_FIELD = "неизвестное поле"


class JsonReader:
    """A JSON array of objects with the single POST's field names (UTF-8); participants
    unless ``columns`` says otherwise."""

    format = IntakeFormat.JSON
    ignored_columns: tuple[str, ...] = ()

    def __init__(self, stream: BinaryStream, columns: ColumnLayout = PARTICIPANT_COLUMNS) -> None:
        self.columns = columns
        if not stream.seekable():
            raise TypeError("JsonReader needs a seekable stream")
        self._stream = stream
        self._start = stream.tell()

    def _elements(self) -> Iterator[object]:
        self._stream.seek(self._start)
        text = io.TextIOWrapper(self._stream, encoding="utf-8-sig", errors="strict")
        try:
            yield from iter_json_array(text)
        except UnicodeDecodeError as error:
            raise IntakeError("JSON должен быть в кодировке UTF-8") from error
        finally:
            _detach(text)

    def check(self) -> int:
        """Read the whole document once without keeping it: broken JSON is refused before any
        row is applied. Returns the number of elements."""
        return sum(1 for _ in self._elements())

    def __iter__(self) -> Iterator[SourceRow]:
        for number, element in enumerate(self._elements(), start=1):
            if not isinstance(element, dict):
                yield SourceRow(number, {}, (Violation("row", self.columns.json_object),))
                continue
            fields = self.columns.json_fields
            unknown = tuple(
                Violation(str(key), UNKNOWN_FIELD) for key in element if key not in fields
            )
            values = {key: value for key, value in element.items() if key in fields}
            yield SourceRow(number, values, unknown)

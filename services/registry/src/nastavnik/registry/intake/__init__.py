"""Bulk intake of participants: files as schools keep them → validated records.

Pure: nothing here touches the database or the network; readers only read the binary stream
they are given, one row at a time.

    reader = open_reader(stream, content_type=..., filename=...)   # IntakeError if unreadable
    for source in reader:
        item = parse_row(source, today)    # ParticipantRecord | RejectedRow
"""

from nastavnik.registry.intake.columns import TITLES
from nastavnik.registry.intake.errors import IntakeError
from nastavnik.registry.intake.readers import (
    CsvReader,
    IntakeFormat,
    JsonReader,
    RowReader,
    SourceRow,
    XlsxReader,
    detect_format,
    open_reader,
)
from nastavnik.registry.intake.records import ParticipantRecord, RejectedRow, parse_row

__all__ = [
    "TITLES",
    "CsvReader",
    "IntakeError",
    "IntakeFormat",
    "JsonReader",
    "ParticipantRecord",
    "RejectedRow",
    "RowReader",
    "SourceRow",
    "XlsxReader",
    "detect_format",
    "open_reader",
    "parse_row",
]

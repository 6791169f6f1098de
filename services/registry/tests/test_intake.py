"""Unit tests of the intake: readers, column titles, values, row validation (no I/O)."""

from __future__ import annotations

import io
import json
import tracemalloc
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from nastavnik.common.contracts.events import ParticipantCategory, ParticipantRole
from nastavnik.registry.domain.participants import ParticipantDetails, Violation
from nastavnik.registry.intake import (
    CsvReader,
    IntakeError,
    IntakeFormat,
    JsonReader,
    ParticipantRecord,
    RejectedRow,
    XlsxReader,
    detect_format,
    open_reader,
    parse_row,
    values,
)
from nastavnik.registry.intake.columns import field_for_title
from nastavnik.registry.intake.readers import SAMPLE_SIZE, iter_json_array

TODAY = date(2026, 3, 1)
MENTEE, MENTOR = ParticipantRole.MENTEE, ParticipantRole.MENTOR
STUDENT, TEACHER = ParticipantCategory.STUDENT, ParticipantCategory.TEACHER


def parse_all(reader: object) -> list[ParticipantRecord | RejectedRow]:
    return [parse_row(row, TODAY) for row in reader]  # type: ignore[attr-defined]


def student(
    last: str, first: str, middle: str | None, born: date, grade: int
) -> ParticipantDetails:
    return ParticipantDetails(MENTEE, STUDENT, last, first, middle, born, grade)


# --- CSV -------------------------------------------------------------------------------------

WINDOWS_CSV = (
    "Реестр наставляемых МБОУ СОШ № 1;;;;;;;;\r\n"
    "Внешний ID;Фамилия;Имя;Отчество;Дата рождения;Класс;Роль;Категория;Примечание\r\n"
    "st-1;Ёлкина;Алёна;Сергеевна;05.09.2012;7А;наставляемый;обучающийся;+7 900 000-00-00\r\n"
    "st-2;Иванов;Пётр;;31.02.2012;7;Наставляемый;Обучающийся;\r\n"
    ";;;;;;;;\r\n"
    't-1;Соколова;"Анна; Мария";Игоревна;;;НАСТАВНИК;педагог;\r\n'
    "t-2;Петров2;Иван;;;;наставник;директор;\r\n"
    "st-3;Кузнецов;Илья;;2013-01-15;5 «Б»;наставляемый;ученик;\r\n"
)


def test_windows_1251_with_semicolons_title_row_and_mixed_rows() -> None:
    reader = open_reader(io.BytesIO(WINDOWS_CSV.encode("cp1251")), filename="реестр.csv")

    assert isinstance(reader, CsvReader)
    assert (reader.encoding, reader.delimiter) == ("cp1251", ";")
    assert reader.ignored_columns == ("Примечание",)
    assert parse_all(reader) == [
        ParticipantRecord(3, "st-1", student("Ёлкина", "Алёна", "Сергеевна", date(2012, 9, 5), 7)),
        RejectedRow(4, "st-2", (Violation("birth_date", "такой даты нет: «31.02.2012»"),)),
        ParticipantRecord(
            6, "t-1", ParticipantDetails(MENTOR, TEACHER, "Соколова", "Анна; Мария", "Игоревна")
        ),
        RejectedRow(
            7,
            "t-2",
            (
                Violation("last_name", "в поле «Фамилия» не должно быть цифр: «Петров2»"),
                Violation(
                    "category",
                    "категория не распознана: «директор»; допустимо: обучающийся, педагог, "
                    "студент, представитель работодателя, выпускник",
                ),
            ),
        ),
        ParticipantRecord(8, "st-3", student("Кузнецов", "Илья", None, date(2013, 1, 15), 5)),
    ]


def test_utf8_with_bom_and_commas_keeps_yo() -> None:
    text = (
        "external_id,last_name,first_name,middle_name,birth_date,grade,role,category\n"
        'a-1,Семёнов,Фёдор,Артёмович,2011-12-31,"8 В",mentee,student\n'
        "a-2,Королёва,Алёна,,,,mentor,college_student\n"
    )
    reader = open_reader(io.BytesIO(b"\xef\xbb\xbf" + text.encode()), content_type="text/csv")

    assert isinstance(reader, CsvReader)
    assert (reader.encoding, reader.delimiter) == ("utf-8-sig", ",")
    records = parse_all(reader)
    assert records == [
        ParticipantRecord(
            2, "a-1", student("Семёнов", "Фёдор", "Артёмович", date(2011, 12, 31), 8)
        ),
        ParticipantRecord(
            3,
            "a-2",
            ParticipantDetails(MENTOR, ParticipantCategory.COLLEGE_STUDENT, "Королёва", "Алёна"),
        ),
    ]


def test_utf8_detected_even_when_the_sample_ends_inside_a_letter() -> None:
    header = "Внешний ID,Фамилия,Имя,Роль,Категория\n".encode()
    filler = b"x" * (SAMPLE_SIZE - len(header) - 2)  # the sample ends after Ж's first byte
    body = header + b"#" + filler + "Ж\n1,Жуков,Олег,наставник,педагог\n".encode()
    assert body[SAMPLE_SIZE - 1 : SAMPLE_SIZE + 1] == "Ж".encode()

    reader = CsvReader(io.BytesIO(body))

    assert reader.encoding == "utf-8"


def test_an_unclosed_quote_ends_the_file_where_it_opened() -> None:
    header = "Внешний ID;Фамилия;Имя;Роль;Категория\n"
    good = "1;Жуков;Олег;наставник;педагог\n"
    broken = '2;"Жуков;Олег;наставник;педагог\n'  # the quote never closes
    rest = "".join(f"{n};Орлова;Дарья;наставник;педагог\n" for n in range(3, 6000))
    reader = CsvReader(io.BytesIO((header + good + broken + rest).encode()))
    rows = iter(reader)

    assert next(rows).values["external_id"] == "1"
    with pytest.raises(IntakeError) as refused:
        next(rows)  # never a row 3674 numbered 3: the swallowed rows are not skipped silently
    assert refused.value.message == (
        "Строка 3 не читается как CSV: ячейка длиннее 131 072 символов — вероятно, в ней или "
        'выше не закрыта кавычка «"»; строки начиная с 3-й не прочитаны; исправьте файл и '
        "загрузите его снова"
    )


def test_excel_sep_line_and_undecodable_bytes() -> None:
    text = "sep=;\nИдентификатор;ФИО;Роль;Категория\n1;Орлова Дарья;наставник;педагог\n"
    data = text.encode("cp1251") + b"2;\x98\x98;\xed\xe0\xf1\xf2\xe0\xe2\xed\xe8\xea;\xef\xe5\xe4\n"
    reader = open_reader(io.BytesIO(data))

    assert isinstance(reader, CsvReader)
    rows = parse_all(reader)
    assert rows[0] == ParticipantRecord(
        2, "1", ParticipantDetails(MENTOR, TEACHER, "Орлова", "Дарья")
    )
    assert isinstance(rows[1], RejectedRow)
    assert rows[1].row == 3
    assert rows[1].errors[0].field == "row"
    assert "кодировке" in rows[1].errors[0].message


NAMES = (("Жуков", "Олег"), ("Котов", "Иван"))


def test_a_row_whose_values_shifted_past_the_header_is_rejected_not_misread() -> None:
    text = (
        "Внешний ID;Фамилия;Имя;Роль;Категория;\n"  # Excel's trailing «;»: an empty column
        "1;Жуков;Олег;наставник;педагог;\n"
        "2;Орлова;Дарья; Анна;наставник;педагог\n"  # «;» inside the name, without quotes
        "3;Котов;Иван;наставник;педагог;;;\n"  # empty cells past the header are harmless
    )
    rows = parse_all(open_reader(io.BytesIO(text.encode())))

    zhukov, kotov = (ParticipantDetails(MENTOR, TEACHER, *name) for name in NAMES)
    assert rows[0] == ParticipantRecord(2, "1", zhukov)
    assert rows[2] == ParticipantRecord(4, "3", kotov)
    shifted = rows[1]
    assert isinstance(shifted, RejectedRow)
    assert (shifted.row, shifted.external_id) == (3, "2")
    assert (
        Violation(
            "row",
            "в строке есть значения правее последнего столбца с заголовком (столбцов 5), первое "
            "из них «педагог»: вероятно, в одном из значений стоит «;» без кавычек и значения "
            "сдвинулись в соседние столбцы; исправьте строку (если это примечание, дайте его "
            "столбцу заголовок)",
        )
        in shifted.errors
    )


def test_missing_and_repeated_columns_are_whole_file_errors() -> None:
    with pytest.raises(IntakeError) as missing:
        open_reader(io.BytesIO("Фамилия;Имя;Класс\nИванов;Пётр;7\n".encode()))
    assert "«Внешний ID», «Роль», «Категория»" in missing.value.message

    with pytest.raises(IntakeError) as repeated:
        open_reader(io.BytesIO("ID;Код;Фамилия;Имя;Роль;Категория\n".encode()))
    assert "«ID» и «Код»" in repeated.value.message

    with pytest.raises(IntakeError, match="строка заголовков"):
        open_reader(io.BytesIO(b"a;b;c\n1;2;3\n"))


def test_csv_is_read_as_a_stream_not_loaded_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="cp1251", newline="") as file:
        file.write("Внешний ID;Фамилия;Имя;Отчество;Дата рождения;Класс;Роль;Категория\r\n")
        for n in range(40_000):
            file.write(f"id-{n};Иванов;Пётр;Сергеевич;01.09.2012;7А;наставляемый;обучающийся\r\n")
    assert path.stat().st_size > 2_500_000

    with path.open("rb") as stream:
        tracemalloc.start()
        try:
            reader = open_reader(stream, filename=path.name)
            accepted = sum(isinstance(parse_row(row, TODAY), ParticipantRecord) for row in reader)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert accepted == 40_000
    assert peak < 2_000_000  # bytes: a few buffers, never the file


# --- XLSX ------------------------------------------------------------------------------------


def workbook_bytes() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Реестр наставников и наставляемых"])
    sheet.append(
        [
            "№ п/п",
            "Внешний ID",
            "Фамилия",
            "Имя",
            "Отчество",
            "Дата рождения",
            "Класс",
            "Роль",
            "Категория",
        ]
    )
    sheet.append(
        [1, 1001, "Ёжиков", "Семён", None, datetime(2012, 5, 1), 7, "наставляемый", "обучающийся"]
    )
    sheet.append(
        [2, "1002", "Белова", "Алёна", "Юрьевна", "01.06.2011", "8А", "наставляемая", "ученица"]
    )
    sheet.append([])
    sheet.append(
        [3, 1003, "Морозов", "Олег", None, None, None, "наставник", "представитель работодателя"]
    )
    sheet.append(
        [4, 1004, "Зайцев", "Антон", None, datetime(2013, 1, 1), 14, "наставляемый", "обучающийся"]
    )
    book.create_sheet("Справочник").append(["не читается"])
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def test_xlsx_sheet_with_typed_cells() -> None:
    reader = open_reader(io.BytesIO(workbook_bytes()), content_type="application/octet-stream")

    assert isinstance(reader, XlsxReader)
    assert reader.ignored_columns == ("№ п/п",)
    assert parse_all(reader) == [
        ParticipantRecord(3, "1001", student("Ёжиков", "Семён", None, date(2012, 5, 1), 7)),
        ParticipantRecord(4, "1002", student("Белова", "Алёна", "Юрьевна", date(2011, 6, 1), 8)),
        ParticipantRecord(
            6,
            "1003",
            ParticipantDetails(
                MENTOR, ParticipantCategory.EMPLOYER_REPRESENTATIVE, "Морозов", "Олег"
            ),
        ),
        RejectedRow(7, "1004", (Violation("grade", "класс должен быть от 1 до 11, указано: 14"),)),
    ]


def test_xlsx_register_on_a_sheet_after_the_instructions() -> None:
    book = Workbook()
    instructions = book.active
    assert instructions is not None
    instructions.title = "Инструкция"
    instructions.append(["Заполните лист «Реестр»: одна строка на участника"])
    register = book.create_sheet("Реестр")
    register.append(["Внешний ID", "ФИО", "Роль", "Категория"])
    register.append(["t-1", "Орлова Дарья", "наставник", "педагог"])
    stream = io.BytesIO()
    book.save(stream)

    reader = open_reader(io.BytesIO(stream.getvalue()))

    assert isinstance(reader, XlsxReader)
    assert reader.sheet == "Реестр"
    assert parse_all(reader) == [
        ParticipantRecord(2, "t-1", ParticipantDetails(MENTOR, TEACHER, "Орлова", "Дарья"))
    ]


def test_xlsx_with_the_register_on_two_sheets_is_refused_naming_them() -> None:
    book = Workbook()
    mentors = book.active
    assert mentors is not None
    mentors.title = "Наставники"
    mentees = book.create_sheet("Наставляемые")
    for sheet in (mentors, mentees):
        sheet.append(["Внешний ID", "ФИО", "Роль", "Категория"])
    mentors.append(["t-1", "Орлова Дарья", "наставник", "педагог"])
    mentees.append(["t-2", "Жуков Олег", "наставляемый", "педагог"])
    stream = io.BytesIO()
    book.save(stream)

    with pytest.raises(IntakeError) as refused:
        open_reader(io.BytesIO(stream.getvalue()))

    assert refused.value.message == (
        "Столбцы реестра есть на нескольких листах книги: «Наставники», «Наставляемые». "
        "Сведите строки на один лист или загрузите каждый лист отдельным файлом"
    )


def test_broken_and_old_excel_files_are_refused() -> None:
    with pytest.raises(IntakeError, match="повреждён"):
        open_reader(io.BytesIO(b"PK\x03\x04 not really a zip"))
    with pytest.raises(IntakeError, match=r"\.xls"):
        detect_format(io.BytesIO(b"\xd0\xcf\x11\xe0" + b"\0" * 100))
    with pytest.raises(IntakeError, match="пуст"):
        detect_format(io.BytesIO(b"  \n"))


# --- JSON ------------------------------------------------------------------------------------


def test_json_array_is_decoded_across_chunk_boundaries() -> None:
    items = [{"n": n, "name": "Ёлка" * (n % 5), "x": [1.5, None, True]} for n in range(50)]
    text = json.dumps(items, ensure_ascii=False, indent=1)
    for chunk_size in (1, 3, 7, 64):
        assert list(iter_json_array(io.StringIO(text), chunk_size)) == items
    assert list(iter_json_array(io.StringIO(" [ 12345 , 678 ] "), 2)) == [12345, 678]
    assert list(iter_json_array(io.StringIO("[]"), 1)) == []


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('{"external_id": "1"}', "JSON-массив"),
        ('[{"external_id": "1"} {"external_id": "2"}]', "ожидается «,» или «]»"),
        ('[{"external_id": "1",]', "Некорректный JSON в элементе 1"),
        ('[{"external_id": "1"}] []', "лишние данные"),
        ('[{"external_id": "1"}', "ожидается «,» или «]»"),
    ],
)
def test_broken_json_is_refused_before_any_row(document: str, message: str) -> None:
    reader = JsonReader(io.BytesIO(document.encode()))
    with pytest.raises(IntakeError, match=message):
        reader.check()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            '[{"external_id": "1",]',
            "элементе 1: имя поля должно быть в двойных кавычках (символ 21",
        ),
        ('[{"a": 1}, {"external_id" "2"}]', "элементе 2: ожидается «:» (символ 16 элемента)"),
        ('[{"external_id": "1}]', "элементе 1: строка не закрыта кавычкой (символ 17"),
        ('[{"a": [1 2]}]', "элементе 1: ожидается «,» (символ 10 элемента)"),
    ],
)
def test_broken_json_is_explained_in_russian_with_the_place(document: str, message: str) -> None:
    reader = JsonReader(io.BytesIO(document.encode()))
    with pytest.raises(IntakeError) as refused:
        reader.check()
    assert message in refused.value.message


def test_json_rows_use_the_api_field_names() -> None:
    document = [
        {
            "external_id": "j-1",
            "role": "mentee",
            "category": "student",
            "last_name": " Ёлкин ",
            "first_name": "Артём",
            "birth_date": "2012-05-01",
            "grade": 7,
        },
        "not an object",
        {
            "external_id": 42,
            "role": "наставник",
            "category": "teacher",
            "last_name": "Ли",
            "first_name": "Ан",
            "nickname": "+7",
        },
    ]
    reader = open_reader(io.BytesIO(json.dumps(document).encode()), content_type="application/json")

    assert isinstance(reader, JsonReader)
    assert reader.check() == 3
    assert parse_all(reader) == [
        ParticipantRecord(1, "j-1", student("Ёлкин", "Артём", None, date(2012, 5, 1), 7)),
        RejectedRow(2, None, (Violation("row", "ожидается JSON-объект с полями участника"),)),
        RejectedRow(3, "42", (Violation("nickname", "неизвестное поле"),)),
    ]


# --- titles and values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "field"),
    [
        ("Фамилия", "last_name"),
        ("  ФАМИЛИЯ ", "last_name"),
        ("Дата рождения*", "birth_date"),
        ("дата  рождения (ДД.ММ.ГГГГ)", "birth_date"),
        ("birthDate", "birth_date"),
        ("birth_date", "birth_date"),
        ("Внешний ID", "external_id"),
        ("Идентификатор", "external_id"),
        ("externalId", "external_id"),
        ("Ф.И.О.", "full_name"),
        ("Роль в программе", "role"),
        ("Класс", "grade"),
        ("Телефон", "phone"),
        ("Примечание", None),
    ],
)
def test_titles(title: str, field: str | None) -> None:
    assert field_for_title(title) == field


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("05.09.2012", date(2012, 9, 5)),
        ("5.9.2012", date(2012, 9, 5)),
        ("05.09.2012 0:00:00", date(2012, 9, 5)),
        ("05.09.2012 г.", date(2012, 9, 5)),
        ("2012-09-05", date(2012, 9, 5)),
        (datetime(2012, 9, 5, 0, 0), date(2012, 9, 5)),
        (41157, date(2012, 9, 5)),  # Excel's serial day number
        ("", None),
        (None, None),
    ],
)
def test_dates(raw: object, expected: date | None) -> None:
    assert values.birth_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("05.09.12", "год полностью"),
        ("09/05/2012", "ожидается ДД.ММ.ГГГГ"),
        ("30.02.2012", "такой даты нет"),
        ("01.01.1812", "слишком ранняя"),
    ],
)
def test_bad_dates(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        values.birth_date(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("7", 7),
        ("7А", 7),
        ("7а", 7),
        ("7 «Б»", 7),
        ("11-в", 11),
        ("7 класс", 7),
        (7, 7),
        (7.0, 7),
        ("10", 10),
        ("", None),
    ],
)
def test_grades(raw: object, expected: int | None) -> None:
    assert values.grade(raw) == expected


@pytest.mark.parametrize("raw", ["седьмой", "7.5", "10-11", True])
def test_bad_grades(raw: object) -> None:
    with pytest.raises(ValueError, match="класс не распознан"):
        values.grade(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Наставник", ParticipantRole.MENTOR),
        ("mentor", ParticipantRole.MENTOR),
        ("наставляемая", ParticipantRole.MENTEE),
        ("MENTEE", ParticipantRole.MENTEE),
    ],
)
def test_roles(raw: str, expected: ParticipantRole) -> None:
    assert values.role(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Обучающийся", ParticipantCategory.STUDENT),
        ("педагог", ParticipantCategory.TEACHER),
        ("студент", ParticipantCategory.COLLEGE_STUDENT),
        ("college_student", ParticipantCategory.COLLEGE_STUDENT),
        ("Представитель  работодателя", ParticipantCategory.EMPLOYER_REPRESENTATIVE),
        ("выпускник", ParticipantCategory.ALUMNUS),
        ("благодарный выпускник", ParticipantCategory.ALUMNUS),
        ("alumnus", ParticipantCategory.ALUMNUS),
    ],
)
def test_categories(raw: str, expected: ParticipantCategory) -> None:
    assert values.category(raw) == expected


def test_domain_rules_are_reported_per_row() -> None:
    text = (
        "Внешний ID;Фамилия;Имя;Роль;Категория;Класс;Дата рождения\n"
        "1;Ким;Ира;наставляемый;ученик;;\n"
    )
    rows = parse_all(open_reader(io.BytesIO(text.encode())))
    assert rows == [
        RejectedRow(
            2,
            "1",
            (
                Violation("grade", "для обучающегося укажите класс (1–11)"),
                Violation("birth_date", "для обучающегося укажите дату рождения"),
            ),
        )
    ]


def test_format_detection() -> None:
    assert detect_format(io.BytesIO(b'\xef\xbb\xbf [{"a": 1}]')) == IntakeFormat.JSON
    assert detect_format(io.BytesIO(b"a;b"), content_type="application/vnd.ms-excel") == "csv"
    assert detect_format(io.BytesIO(b"[x]"), filename="list.csv") == IntakeFormat.CSV

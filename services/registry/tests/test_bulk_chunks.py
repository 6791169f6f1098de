"""How parsed rows are cut into transactions (pure: no database)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nastavnik.registry.application.bulk import chunked
from nastavnik.registry.intake import IntakeError


def rows_then_a_break(count: int) -> Iterator[int]:
    yield from range(1, count + 1)
    raise IntakeError("строка не читается")


def test_rows_come_in_chunks_of_the_size_and_a_short_last_one() -> None:
    assert list(chunked(range(1, 8), 3)) == [[1, 2, 3], [4, 5, 6], [7]]
    assert list(chunked([], 3)) == []


def test_the_rows_read_before_a_break_come_before_the_error() -> None:
    chunks = chunked(rows_then_a_break(5), 3)

    assert next(chunks) == [1, 2, 3]
    assert next(chunks) == [4, 5]  # not lost with the chunk the break cut short
    with pytest.raises(IntakeError):
        next(chunks)


def test_a_break_right_after_a_full_chunk_gives_no_empty_one() -> None:
    chunks = chunked(rows_then_a_break(3), 3)

    assert next(chunks) == [1, 2, 3]
    with pytest.raises(IntakeError):
        next(chunks)

"""The duplicate check's memory of first rows: the same answers in memory and once moved to its
temporary SQLite file, and nothing left behind."""

from __future__ import annotations

import pytest

from nastavnik.registry.adapters.first_rows import FirstRows


@pytest.mark.parametrize("in_memory_keys", [1_000, 3])
def test_the_first_row_of_a_key_wins_in_memory_and_on_disk(in_memory_keys: int) -> None:
    with FirstRows(in_memory_keys) as seen:
        firsts = [seen.claim(f"id-{number % 7}", number) for number in range(2, 30)]
        assert seen.on_disk is (in_memory_keys < 7)
        assert seen.claim("ёлка «1»", 100) == 100
        assert seen.claim("ёлка «1»", 101) == 100

    assert firsts == [2, 3, 4, 5, 6, 7, 8] * 4
    assert not seen.on_disk


def test_keys_that_differ_only_in_case_or_spaces_are_different_keys() -> None:
    with FirstRows(1) as seen:
        assert [seen.claim(key, row) for row, key in enumerate(("a", "A", "a ", "a"))] == [
            0,
            1,
            2,
            0,
        ]

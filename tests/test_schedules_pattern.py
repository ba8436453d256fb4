"""The pattern a schedule's "newest file named like …" starts with, from a file's name."""

from __future__ import annotations

import fnmatch

import pytest

from bot.schedules.pattern import MAX_PATTERN_CHARS, file_pattern


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("sales_2026-11-30.csv", "sales_*.csv"),
        ("매출_20261130_v2.xlsx", "매출_*.xlsx"),
        ("report (3).csv", "report*.csv"),
        ("sales.csv", "sales.csv"),  # nothing to generalise: the same name
        ("Q3 sales 2026.11.30 final.xlsx", "Q* sales * final.xlsx"),
        ("export-20261130T0900.csv.gz", "export-*T*.csv.gz"),
        ("orders_v12.parquet", "orders_*.parquet"),
        ("sales_2026-11-30_v2 (1).csv", "sales_*.csv"),
        ("data[1].csv", "data*.csv"),
        ("weird[name]?.csv", "weird?name??.csv"),
        ("20261130.csv", "*.csv"),
        ("README", "README"),
        ("1234", "*"),
    ],
)
def test_dates_counters_and_versions_become_one_wildcard(name: str, pattern: str) -> None:
    assert file_pattern(name) == pattern


@pytest.mark.parametrize(
    ("name", "later"),
    [
        ("sales_2026-11-30.csv", "sales_2026-12-01.csv"),
        ("매출_20261130_v2.xlsx", "매출_20261201_v3.xlsx"),
        ("report (3).csv", "report (4).csv"),
        ("report (3).csv", "report.csv"),
        ("export-20261130T0900.csv.gz", "export-20261201T0915.csv.gz"),
    ],
)
def test_the_pattern_matches_the_next_file_of_the_series(name: str, later: str) -> None:
    assert fnmatch.fnmatch(later.lower(), file_pattern(name).lower())


def test_another_kind_of_file_does_not_match() -> None:
    pattern = file_pattern("sales_2026-11-30.csv")
    assert not fnmatch.fnmatch("sales_2026-11-30.xlsx", pattern)
    assert not fnmatch.fnmatch("costs_2026-11-30.csv", pattern)


def test_a_long_name_gives_a_bounded_pattern_that_still_matches_it() -> None:
    name = "quarterly_revenue_by_region_and_product_line_" * 4 + "2026.csv"
    pattern = file_pattern(name)
    assert len(pattern) <= MAX_PATTERN_CHARS and pattern.endswith("*.csv")
    assert fnmatch.fnmatch(name, pattern)

"""Dates in lender tables (issue 18, item 6): ISO or declared, never guessed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from recovery.data.dates import date_shape, is_date_format, parse_dates, suggest_date_format


def _ymd(parsed: pd.Series) -> list:
    return [None if pd.isna(v) else v.strftime("%Y-%m-%d %H:%M") for v in parsed]


def test_iso_forms_are_read_and_nothing_else_is():
    values = pd.Series(
        ["2018-08-03", "2018-08-03 14:05:00", "20180803", "03/08/2018", "08/03/2018", None]
    )
    parsed, bad = parse_dates(values, "datetime")
    assert _ymd(parsed) == [
        "2018-08-03 00:00",
        "2018-08-03 14:05",
        "2018-08-03 00:00",
        None,  # day-first or month-first: not guessed
        None,
        None,  # missing stays missing, and is not "bad"
    ]
    assert bad.tolist() == [False, False, False, True, True, False]


def test_a_declared_format_reads_the_lenders_dates():
    values = pd.Series(["03/08/2018", "25/12/2018", "2018-12-25"])
    parsed, bad = parse_dates(values, fmt="%d/%m/%Y")
    # 3 August, 25 December; an ISO value does not match the declared format
    assert _ymd(parsed) == ["2018-08-03 00:00", "2018-12-25 00:00", None]
    assert bad.tolist() == [False, False, True]
    months, _ = parse_dates(pd.Series(["201808", 201809]), fmt="%Y%m")
    assert _ymd(months) == ["2018-08-01 00:00", "2018-09-01 00:00"]


def test_offsets_are_dropped_keeping_the_local_time_written():
    # a contact log written in local time with its UTC offset, across a DST change:
    # compliance hours are read in the lender's local time, so 21:30 stays 21:30
    values = pd.Series(
        ["2024-03-09T21:30:00+01:00", "2024-03-31 08:15:00+02:00", "2024-04-02 12:00:00Z"]
    )
    parsed, bad = parse_dates(values, "datetime")
    assert parsed.dt.hour.tolist() == [21, 8, 12] and not bad.any()
    declared, _ = parse_dates(values.iloc[:1], "datetime", fmt="%Y-%m-%dT%H:%M:%S%z")
    assert declared.dt.hour.tolist() == [21]
    aware = pd.Series(pd.to_datetime(["2024-03-09 21:30"]).tz_localize("Asia/Shanghai"))
    assert parse_dates(aware, "datetime")[0].dt.hour.tolist() == [21]


def test_dates_from_a_database_or_parquet_pass_through():
    values = pd.Series([dt.date(2024, 1, 5), pd.Timestamp("2024-02-06 10:00"), "2024-03-07"])
    parsed, bad = parse_dates(values)  # kind "date": the time of day is dropped
    assert _ymd(parsed) == ["2024-01-05 00:00", "2024-02-06 00:00", "2024-03-07 00:00"]
    assert not bad.any()
    typed = pd.Series(pd.to_datetime(["2024-01-05"]))
    assert parse_dates(typed)[0].equals(typed)


def test_date_shape_names_the_format_without_guessing_it():
    values = pd.Series(["03/08/2018", "25/12/2018", "3.8.2018", np.nan])
    assert date_shape(values) == "'##/##/####' (e.g. '03/08/2018'), '#.#.####' (e.g. '3.8.2018')"
    assert date_shape(pd.Series([None])) == "(none)"


@pytest.mark.parametrize(
    "fmt, ok",
    [("%d/%m/%Y", True), ("%Y%m", True), ("%d.%m.%y %H:%M", True), ("DD/MM/YYYY", False),
     (None, False), (42, False)],
)  # fmt: skip
def test_is_date_format(fmt, ok):
    assert is_date_format(fmt) is ok


@pytest.mark.parametrize(
    "values, fmt, why",
    [
        (["03/08/2018", "25/12/2018"], "%d/%m/%Y", "day first: '25/12/2018'"),
        (["12/25/2018", "01/02/2019"], "%m/%d/%Y", "month first: '12/25/2018'"),
        (["25.12.2018 10:00:00", "01.02.2019 08:00:00"], "%d.%m.%Y %H:%M:%S", "day first"),
        (["03/08/2018", "04/09/2018"], None, "read both ways"),  # the user decides
        (["25/12/2018", "13/14/2018"], None, "read neither way"),
        (["25/12/2018", "2018-01-05"], None, "not one numeric shape"),
        (["25/12/2018", "26-12-2018"], None, "mixed separators"),
        (["25/12/2018 10:00", "26/12/2018"], None, "some values with a time"),
        (["2018-12-25", "20181226"], None, ""),  # ISO 8601: nothing to declare
    ],
)
def test_suggest_date_format_only_when_the_values_prove_it(values, fmt, why):
    got, reason = suggest_date_format(pd.Series(values))
    assert got == fmt
    assert why in reason and (why or reason == "")
    if fmt:  # the suggestion reads every value, the proving one as the 25th of December
        parsed, bad = parse_dates(pd.Series(values), "datetime", fmt)
        assert not bad.any()
        assert (parsed.dt.strftime("%m-%d") == "12-25").sum() == 1

"""Business time: the hard cases of due dates."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.runtime.calendar import BUILT_IN, CalendarError, build_calendar

UTC = dt.UTC
PARIS = build_calendar(
    "paris",
    "Europe/Paris",
    {d: [["09:00", "12:30"], ["13:30", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    holidays=["2026-12-25", "2027-01-01"],
    hours_per_day=7,
)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_within_working_hours() -> None:
    assert BUILT_IN.shift(at("2026-11-23 10:00"), "4 business hours") == at("2026-11-23 14:00")


def test_running_past_the_end_of_the_day() -> None:
    assert BUILT_IN.shift(at("2026-11-23 15:00"), "4 business hours") == at("2026-11-24 11:00")


def test_assigned_outside_working_hours_starts_at_the_next_opening() -> None:
    assert BUILT_IN.shift(at("2026-11-23 20:00"), "1 business hour") == at("2026-11-24 10:00")
    assert BUILT_IN.shift(at("2026-11-24 06:00"), "1 business hour") == at("2026-11-24 10:00")


def test_over_a_weekend() -> None:
    friday = at("2026-11-27 16:00")
    assert BUILT_IN.shift(friday, "2 business hours") == at("2026-11-30 10:00")
    assert BUILT_IN.shift(at("2026-11-28 12:00"), "1 business day") == at("2026-11-30 17:00")


def test_business_days_use_the_length_of_a_business_day() -> None:
    assert BUILT_IN.shift(at("2026-11-23 10:00"), "2 business days") == at("2026-11-25 10:00")


def test_lunch_breaks_and_local_time() -> None:
    # 11:00 Paris (UTC+1 in winter) is 10:00 UTC; 3 hours = 1.5 before lunch + 1.5 after.
    assert PARIS.shift(at("2026-11-23 10:00"), "3 business hours") == at("2026-11-23 14:00")


def test_on_a_holiday() -> None:
    christmas_eve = at("2026-12-24 15:00")  # 16:00 in Paris: one working hour left that day
    assert PARIS.shift(christmas_eve, "2 business hours") == at("2026-12-28 09:00")


def test_across_a_daylight_saving_change() -> None:
    # Paris moves to summer time on Sunday 2027-03-28: Friday 16:00 local is 15:00 UTC, and
    # the Monday after opens at 09:00 local = 07:00 UTC.
    friday = at("2027-03-26 15:00")
    assert PARIS.shift(friday, "2 business hours") == at("2027-03-29 08:00")


def test_hours_that_span_the_change_count_real_hours() -> None:
    night = build_calendar(
        "night", "Europe/Paris", {d: [["00:00", "06:00"]] for d in ("sun", "mon")}
    )
    # On 2027-03-28 the clock jumps from 02:00 to 03:00: that night has 5 real hours.
    start = dt.datetime(2027, 3, 28, 0, 0, tzinfo=night.zone)
    due = night.shift(start.astimezone(UTC), "5 business hours")
    assert due.astimezone(night.zone).hour == 6
    assert due.astimezone(night.zone).date() == dt.date(2027, 3, 28)


def test_negative_offsets_count_backwards() -> None:
    assert BUILT_IN.shift(at("2026-11-24 10:00"), "-2 business hours") == at("2026-11-23 16:00")


def test_plain_durations_ignore_the_calendar() -> None:
    assert PARIS.shift(at("2026-11-28 12:00"), "30 minutes") == at("2026-11-28 12:30")


@pytest.mark.parametrize(
    ("hours", "holidays", "timezone", "message"),
    [
        ({}, [], "UTC", "has no working hours on any day"),
        ({"mon": [["17:00", "09:00"]]}, [], "UTC", "ends before it starts"),
        ({"mon": [["9am", "17:00"]]}, [], "UTC", "'9am' is not a time of day"),
        ({"funday": [["09:00", "17:00"]]}, [], "UTC", "'funday' is not a weekday"),
        ({"mon": [["09:00", "17:00"]]}, [], "Mars/Olympus", "is not a known time zone"),
        ({"mon": [["09:00", "17:00"]]}, ["someday"], "UTC", "a holiday is not a date"),
    ],
)
def test_calendars_that_cannot_work_are_refused(
    hours: dict[str, list[list[str]]], holidays: list[str], timezone: str, message: str
) -> None:
    with pytest.raises(CalendarError, match=message):
        build_calendar("bad", timezone, hours, holidays)


def test_a_calendar_of_holidays_only_is_a_clear_error() -> None:
    only_new_year = build_calendar(
        "tiny",
        "UTC",
        {"fri": [["09:00", "10:00"]]},
        holidays=[f"{y}-01-01" for y in range(2027, 2040)],
    )
    # Fridays are working days except holidays; 1 hour is fine …
    assert only_new_year.shift(at("2026-12-31 12:00"), "1 business hour") == at("2027-01-08 10:00")
    every_friday = build_calendar(
        "never",
        "UTC",
        {"fri": [["09:00", "10:00"]]},
        holidays=[str(dt.date(2026, 11, 27) + dt.timedelta(weeks=w)) for w in range(600)],
    )
    with pytest.raises(CalendarError, match="no working time in the ten years"):
        every_friday.shift(at("2026-11-23 12:00"), "1 business hour")

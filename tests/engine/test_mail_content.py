"""What e-mails about work say: a link that opens the item (or run) in the app for the person
it was meant for, and times in the recipient's own time zone (else the calendar's)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import InvalidInput, PermissionDenied
from engine.services.baton import Baton
from engine.store.models import OutboxRow
from tests.conftest import define, people

FLOW = """
format: 1
name: purchase
error_recipients: [carol]
forms: {ok: {fields: [{name: note, type: text}]}}
elements:
  - kind: stage
    name: approval
    steps:
      - {kind: interactive, name: approve, label: Approve, form: ok, assignee: {queue: legal}, due: 4 hours}
"""


def bodies(baton: Baton) -> dict[str, str]:
    with baton.db.read() as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
        return {r.recipient: r.body for r in rows}


def test_work_mail_links_the_item_for_each_member_in_their_time_zone(baton: Baton) -> None:
    people(baton)
    baton.directory.set_time_zone("bob", "Europe/London")
    baton.as_user("dave").directory.set_time_zone("dave", "America/New_York")
    define(baton, FLOW)
    run = baton.runs.start("purchase")
    item = baton.runs.show(run.id).work_items[0]
    mail = bodies(baton)
    assert f"baton://work/{item.id}?for=bob" in mail["bob@example.com"]
    assert f"baton://work/{item.id}?for=dave" in mail["dave@example.com"]
    assert "Europe/London" in mail["bob@example.com"]
    assert "America/New_York" in mail["dave@example.com"]
    assert item.due_at is not None
    london = item.due_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/London"))
    assert f"{london:%H:%M} Europe/London" in mail["bob@example.com"]


def test_without_a_zone_of_their_own_times_follow_the_calendar(baton: Baton) -> None:
    people(baton)
    define(baton, FLOW)
    baton.runs.start("purchase")
    assert " UTC" in bodies(baton)["bob@example.com"]  # the built-in calendar is in UTC


def test_a_time_zone_is_checked_and_set_by_its_owner_or_an_admin(baton: Baton) -> None:
    people(baton)
    with pytest.raises(InvalidInput, match="'Mars/Olympus' is not a time zone"):
        baton.directory.set_time_zone("bob", "Mars/Olympus")
    with pytest.raises(PermissionDenied, match="people set their own"):
        baton.as_user("alice").directory.set_time_zone("bob", "UTC")
    assert baton.as_user("bob").directory.set_time_zone("bob", "Asia/Tokyo").time_zone == (
        "Asia/Tokyo"
    )
    assert baton.directory.set_time_zone("bob", None).time_zone is None

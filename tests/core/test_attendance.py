"""Attendance (#15 item 6): after the start the organiser taps people present; those not
tapped count as no-shows for the group's admins; the roster exports as CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from core.chat import handle_text
from tests.support import Chat

RIDGE = "/newevent hiking | Ridge | 2026-11-22 09:00 | Trailhead | free | 3"  # the clock: 21 Nov


async def _ridge_with_three(chat: Chat) -> dict[str, int]:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", RIDGE)
    for who in ("ann", "bob", "cat", "dan"):  # dan waits
        await chat.say(who, "/signup 1")
    return {who: await chat.person_id(who) for who in ("ann", "bob", "cat", "dan")}


async def test_check_in_after_the_start_and_no_shows(chat: Chat) -> None:
    ids = await _ridge_with_three(chat)
    assert "opens an hour before" in (await chat.say("maya", "/checkin 1")).text
    chat.services.clock.advance(timedelta(hours=21, minutes=30))  # 09:30, half an hour after

    opened = await chat.say("maya", "/checkin 1")
    assert "Present: 0 of 3" in opened.text  # the waitlist is not on it
    labels = [b.label for row in opened.cards[0].buttons for b in row]
    assert labels == ["⬜ ann", "⬜ bob", "⬜ cat"]
    assert (await chat.say("ann", "/checkin 1")).text.startswith("⚠️ Only the organizer")

    for who in ("ann", "cat"):
        tapped = await chat.click("maya", f"ck:1:{ids[who]}")
        assert tapped.toast == f"{who}: present." and tapped.edit
    assert "Present: 2 of 3" in tapped.text
    undone = await chat.click("maya", f"ck:1:{ids['cat']}")  # a mistaken tap, undone
    assert undone.toast == "cat: not there."
    await chat.click("maya", f"ck:1:{ids['cat']}")
    assert (await chat.click("maya", f"ck:1:{ids['dan']}")).alert  # waiting: no seat to check

    shows = await chat.say("maya", "/noshows hiking")
    assert shows.text.splitlines()[1:] == [
        "• bob: missed 1 of 1",
        "• ann: missed 0 of 1",
        "• cat: missed 0 of 1",
    ]
    assert (await chat.say("bob", "/noshows hiking")).text.startswith("⚠️ Only admins")

    chat.services.clock.advance(timedelta(days=4))
    assert "closed three days after" in (await chat.say("maya", "/checkin 1")).text


async def test_cancelling_once_check_in_opened_is_no_no_show(chat: Chat) -> None:
    """Check-in opens an hour before the start; Bob cancels in that hour, as he should: his
    seat goes to Dan, and /noshows does not count Bob as missing."""
    ids = await _ridge_with_three(chat)
    chat.services.clock.advance(timedelta(hours=20, minutes=30))  # 08:30, before the 09:00 start
    await chat.say("maya", "/checkin 1")
    await chat.say("bob", "/unsignup 1")
    for who in ("ann", "cat"):
        await chat.click("maya", f"ck:1:{ids[who]}")
    early = await chat.say("maya", "/noshows hiking")  # 08:30: Dan is not late yet
    assert "dan" not in early.text
    chat.services.clock.advance(timedelta(hours=1))
    shows = await chat.say("maya", "/noshows hiking")
    assert "bob" not in shows.text
    assert "• dan: missed 1 of 1" in shows.text.splitlines()


async def test_a_cancelled_activity_has_no_check_in_and_no_no_shows(chat: Chat) -> None:
    await _ridge_with_three(chat)
    chat.services.clock.advance(timedelta(hours=20, minutes=30))
    await chat.say("maya", "/checkin 1")  # opened, nobody tapped; then called off
    await chat.say("maya", "/cancelevent 1")
    assert (await chat.say("maya", "/checkin 1")).text == "⚠️ This activity was cancelled."
    chat.services.clock.advance(timedelta(hours=2))
    shows = await chat.say("maya", "/noshows hiking")
    assert "missed" not in shows.text


async def test_export_is_a_csv_of_the_roster(chat: Chat) -> None:
    await _ridge_with_three(chat)
    await chat.say("maya", "/settings name =HYPERLINK(1)")  # a formula for a name
    await chat.say("maya", "/signup 1")  # waits too, behind dan
    reply = await chat.say("maya", "/export 1")
    [card] = reply.cards
    assert card.file is not None and card.file.name == "roster-1.csv"
    rows = list(csv.reader(io.StringIO(card.file.data.decode("utf-8-sig"))))
    assert rows[0] == ["name", "accounts", "status", "guests", "signed_up_utc", "attended"]
    assert [(r[0], r[2]) for r in rows[1:]] == [
        ("ann", "confirmed"),
        ("bob", "confirmed"),
        ("cat", "confirmed"),
        ("dan", "waitlisted"),
        ("'=HYPERLINK(1)", "waitlisted"),  # not run by a spreadsheet
    ]
    assert (await chat.say("ann", "/export 1")).text.startswith("⚠️ Only the organizer")
    await chat.say("maya", "/settings language zh")  # the file speaks the organiser's language
    [card] = (await chat.say("maya", "/export 1")).cards
    rows = list(csv.reader(io.StringIO(card.file.data.decode("utf-8-sig"))))
    assert rows[0][0] != "name" and rows[1][2] != "confirmed" and rows[4][2] != "waitlisted"


async def test_attendance_and_the_roster_are_never_shown_in_a_group_chat(chat: Chat) -> None:
    """/export in a group chat posted everyone's names, accounts and statuses there; /checkin
    everyone's attendance as buttons, /noshows who missed what."""
    await _ridge_with_three(chat)
    chat.services.clock.advance(timedelta(hours=21, minutes=30))  # check-in is open
    context = await chat.context("maya")
    context.in_group_chat = True
    exported = await handle_text(context, "/export 1")
    assert exported.text == "⚠️ Send me /export in a private chat: the answer is just for you."
    assert all(card.file is None for card in exported.cards)
    checkin = await handle_text(context, "/checkin 1")
    assert checkin.text == "⚠️ Send me /checkin in a private chat: the answer is just for you."
    assert not any(card.buttons for card in checkin.cards)
    shows = await handle_text(context, "/noshows hiking")
    assert shows.text == "⚠️ Send me /noshows in a private chat: the answer is just for you."
    assert "Present: 0 of 3" in (await chat.say("maya", "/checkin 1")).text  # in private: yes

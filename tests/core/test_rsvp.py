"""RSVP beyond yes and no: "maybe" (no seat, shown apart, reminded only on request) and guests
(+1s take seats and wait as a whole party; cancelling frees them all). Counts stay true."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from core.chat import Services
from core.scheduler import ReminderRunner
from core.services import tallies
from tests.support import START, Chat, RecordingNotifier

STARTS = START + timedelta(days=3)


async def _activity(chat: Chat, capacity: int, guests: int = 0) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say(
        "maya", f"/newevent hiking | Ridge | 2026-11-24 12:00 | Trailhead | free | {capacity}"
    )
    if guests:
        await chat.say("maya", f"/editevent 1 guests {guests}")


async def _counts_match_rows(services: Services) -> tuple[int, int, int]:
    """The stored going/waiting/maybe, after checking them against a recount of the rows."""
    async with services.db.engine.begin() as conn:
        stored = (await conn.execute(text("SELECT going, waiting, interested FROM event"))).one()
        await conn.run_sync(tallies.recount, services.clock.now())
        recounted = (await conn.execute(text("SELECT going, waiting, interested FROM event"))).one()
    assert tuple(stored) == tuple(recounted)
    return tuple(stored)  # type: ignore[return-value]


async def test_a_maybe_holds_no_seat_and_is_shown_apart(chat: Chat, services) -> None:
    sent = services.notifiers["test"] = RecordingNotifier()
    await _activity(chat, capacity=1)
    await chat.click("ana", "su:1")
    await chat.click("ben", "su:1")  # waits
    reply = await chat.click("ana", "mb:1")  # not sure any more: her seat goes to Ben
    assert "Marked as maybe" in (reply.toast or "")
    assert [who for who, _ in sent.sent] == ["ben"]  # told of the seat
    assert "1/1 going, 1 maybe" in reply.text
    assert "You're a maybe" in reply.text
    who = await chat.say("maya", "/who 1")
    assert who.text.split("Maybe")[1].strip() == "1. ana"
    assert await _counts_match_rows(services) == (1, 0, 1)
    again = await chat.click("ana", "mb:1")
    assert again.toast == "You're already a maybe."


async def test_a_maybe_is_reminded_only_when_asked(chat: Chat, services, clock) -> None:
    notifier = services.notifiers["test"] = RecordingNotifier()
    await _activity(chat, capacity=5)
    await chat.click("ana", "mb:1")
    await chat.click("ben", "mb:1")
    who = await chat.say("maya", "/who 1")
    assert who.text.splitlines()[1] == "Nobody has a seat yet."  # two maybes have signed up
    asked = await chat.click("ben", "rm:1")
    assert asked.toast == "You'll get the reminders too."
    clock.set(STARTS - timedelta(hours=1))
    assert await ReminderRunner(services).run_due() == 1
    assert notifier.texts_to("ana") == [] and len(notifier.texts_to("ben")) == 1


def _labels(reply) -> list[str]:
    return [button.label for card in reply.cards for row in card.buttons for button in row]


async def test_a_maybe_sees_her_reminders_on_and_can_turn_them_off(
    chat: Chat, services, clock
) -> None:
    """🔔 Remind me too said "You'll get the reminders too." at every tap, and the card never
    showed it: now the card says so and its button turns them off again."""
    notifier = services.notifiers["test"] = RecordingNotifier()
    await _activity(chat, capacity=5)
    await chat.click("li", "mb:1")
    asked = await chat.click("li", "rm:1")
    assert "You'll get the reminders too." in asked.text
    assert "🔕 Stop reminders" in _labels(asked) and "🔔 Remind me too" not in _labels(asked)
    assert "🔕 Stop reminders" in _labels(await chat.say("li", "/event 1"))  # a new copy too
    stopped = await chat.click("li", "ro:1")
    assert stopped.toast == "No reminders for you: you're still a maybe."
    assert "You'll get the reminders" not in stopped.text
    assert "🔔 Remind me too" in _labels(stopped)
    assert (await chat.click("li", "ro:1")).toast == stopped.toast  # a second tap: no change
    clock.set(STARTS - timedelta(hours=1))
    assert await ReminderRunner(services).run_due() == 0
    assert notifier.texts_to("li") == []


async def test_a_maybe_asking_for_reminders_gets_them_at_her_own_times(
    chat: Chat, services, clock
) -> None:
    """Her own reminder times (/settings reminders 2h) got no row when she asked as a maybe:
    the activity's 24h and 1h she does not want, so she heard nothing."""
    notifier = services.notifiers["test"] = RecordingNotifier()
    await _activity(chat, capacity=5)
    await chat.say("li", "/settings reminders 2h")
    await chat.click("li", "mb:1")
    await chat.click("li", "rm:1")
    clock.set(STARTS - timedelta(hours=2))
    assert await ReminderRunner(services).run_due() == 1
    [text] = notifier.texts_to("li")
    assert "starts in 2 hours" in text


async def test_a_party_on_a_full_activity_waits_as_a_party(chat: Chat, services) -> None:
    sent = services.notifiers["test"] = RecordingNotifier()
    await _activity(chat, capacity=3, guests=2)
    for name in ("ann", "bob", "cid"):
        await chat.click(name, "su:1")
    first = await chat.click("dee", "pl:1")  # not signed up: +1 signs her up with a guest
    assert "party of 2 waits as one: #1" in (first.toast or "")
    await chat.click("dee", "pl:1")  # +2: a party of three
    refused = await chat.click("dee", "pl:1")  # the activity takes two guests at most
    assert "At most 2 guests" in (refused.toast or "")
    await chat.click("eve", "su:1")  # waits behind Dee's party
    assert await _counts_match_rows(services) == (3, 4, 0)

    await chat.click("ann", "cx:1")  # one seat free: Dee's party of three doesn't fit...
    assert await _counts_match_rows(services) == (2, 4, 0)
    who = await chat.say("maya", "/who 1")
    assert "1. dee +2" in who.text.split("Waitlist")[1]  # ...and Eve does not overtake it
    await chat.click("bob", "cx:1")
    assert sent.sent == []  # nobody moved up yet
    await chat.click("cid", "cx:1")  # three free: the whole party goes in
    assert [who for who, _ in sent.sent] == ["dee"]
    assert await _counts_match_rows(services) == (3, 1, 0)

    await chat.click("dee", "cx:1")  # cancelling frees all three seats
    assert [who for who, _ in sent.sent] == ["dee", "eve"]
    assert await _counts_match_rows(services) == (1, 0, 0)


async def test_a_seated_party_grows_only_into_free_seats(chat: Chat, services) -> None:
    await _activity(chat, capacity=3, guests=3)
    await chat.click("bob", "su:1")
    await chat.click("ann", "su:1")
    grown = await chat.click("ann", "pl:1")
    assert grown.toast == "You're going, with 1 guest."
    assert "3/3 going" in grown.text and "with 1 guest" in grown.text
    full = await chat.click("ann", "pl:1")
    assert full.toast == "No free seat for another guest."
    await chat.click("ann", "mi:1")
    assert await _counts_match_rows(services) == (2, 0, 0)


async def test_guests_only_where_the_organiser_allows_them(chat: Chat) -> None:
    await _activity(chat, capacity=5)
    refused = await chat.click("ann", "pl:1")
    assert refused.toast == "This activity takes no guests."
    shown = await chat.say("ann", "/event 1")
    assert "➕ Guest" not in [b.label for card in shown.cards for row in card.buttons for b in row]
    bad = await chat.say("maya", "/editevent 1 guests lots")
    assert "whole number" in bad.text
    too_many = await chat.say("maya", "/editevent 1 guests 50")
    assert "from 0 to 10" in too_many.text


async def test_a_party_never_grows_past_the_whole_activity(chat: Chat, services) -> None:
    """Two seats, three guests allowed: a waiting party of three could never be seated, and
    would hold everyone behind it on the waitlist of an empty activity. It cannot form."""
    await _activity(chat, capacity=2, guests=3)
    await chat.click("ann", "su:1")
    await chat.click("bob", "su:1")
    await chat.click("dee", "pl:1")  # waits, with one guest: a party of two fits in two seats
    refused = await chat.click("dee", "pl:1")
    assert refused.toast == "A party of 3 can't fit: this activity's capacity is 2."
    await chat.click("eve", "su:1")
    assert await _counts_match_rows(services) == (2, 3, 0)
    await chat.click("ann", "cx:1")
    await chat.click("bob", "cx:1")  # both seats free: Dee's party goes in, then Eve waits
    assert await _counts_match_rows(services) == (2, 1, 0)
    lower = await chat.say("maya", "/editevent 1 capacity 1")
    assert "Seats already taken: 2 (guests included)" in lower.text


async def test_capacity_cannot_drop_below_a_waiting_party(chat: Chat, services) -> None:
    await _activity(chat, capacity=3, guests=2)
    for name in ("ann", "bob", "cid"):
        await chat.click(name, "su:1")
    await chat.click("dee", "pl:1")
    await chat.click("dee", "pl:1")  # a party of three waits
    for name in ("bob", "cid"):
        await chat.click(name, "cx:1")
    refused = await chat.say("maya", "/editevent 1 capacity 2")
    assert refused.text == "⚠️ A party of 3 is on the waitlist: capacity can't go below that."
    assert await _counts_match_rows(services) == (1, 3, 0)


async def test_a_party_too_big_for_the_activity_does_not_hold_the_line(
    chat: Chat, services
) -> None:
    """Rows from before parties were kept within the capacity: a party of three waiting for
    two seats is passed over, and the people behind it get the seats that free up."""
    await _activity(chat, capacity=2, guests=2)
    await chat.click("ann", "su:1")
    await chat.click("bob", "su:1")
    await chat.click("dee", "su:1")
    await chat.click("eve", "su:1")
    async with services.db.engine.begin() as conn:  # Dee's party grew before the rule
        await conn.execute(text("UPDATE registration SET guests = 2 WHERE person_id = 4"))
        await conn.execute(text("UPDATE event SET waiting = waiting + 2"))
    await chat.click("ann", "cx:1")
    who = await chat.say("maya", "/who 1")
    assert "2. eve" in who.text.split("Waitlist")[0]  # seated: Dee's party can never be
    await chat.click("bob", "cx:1")  # a seat free, only Dee's party waiting
    newcomer = await chat.click("fay", "su:1")
    assert newcomer.toast == "You're in!"  # not "full, you're #2" behind a party never seated


async def test_guests_brought_before_guests_were_turned_off_can_still_be_dropped(
    chat: Chat, services
) -> None:
    await _activity(chat, capacity=5, guests=2)
    await chat.click("ann", "pl:1")
    await chat.click("ann", "pl:1")  # two guests
    await chat.say("maya", "/editevent 1 guests 0")
    card = await chat.say("ann", "/event 1")
    labels = [b.label for c in card.cards for row in c.buttons for b in row]
    assert "➖ Guest" in labels and "➕ Guest" not in labels
    fewer = await chat.click("ann", "mi:1")  # above the new limit: fewer is still fine
    assert fewer.toast == "You're going, with 1 guest."
    fewer = await chat.click("ann", "mi:1")
    assert "➖ Guest" not in [b.label for c in fewer.cards for row in c.buttons for b in row]
    assert await _counts_match_rows(services) == (1, 0, 0)
    assert (await chat.click("ann", "mi:1")).toast == "You're not bringing any guests."


async def test_the_most_guests_reads_right_for_one_or_more(chat: Chat) -> None:
    """The limit in the person's language, singular or plural as the number asks ("At most 1
    guests" before)."""
    await _activity(chat, capacity=5, guests=1)
    await chat.click("ann", "pl:1")  # Ann and one guest
    one = await chat.click("ann", "pl:1")
    assert one.toast == "At most 1 guest per person for this activity."
    await chat.say("maya", "/editevent 1 guests 2")
    await chat.click("ann", "pl:1")
    two = await chat.click("ann", "pl:1")
    assert two.toast == "At most 2 guests per person for this activity."

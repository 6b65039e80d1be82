"""Activities as people live them: listing, signing up, the waitlist moving, changes and
cancellations reaching everyone who signed up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.chat import Services
from core.clock import FrozenClock
from core.db import Database
from core.errors import DomainError
from core.i18n import Translator
from core.models import GroupChat, Role
from core.notices import NoticeWorker
from core.services import events, groups, people
from core.services.events import EventDraft
from tests.support import Chat, RecordingNotifier

DAY = timedelta(days=1)
EN = Translator("en")


async def _person(db: Database, clock: FrozenClock, name: str) -> int:
    async with db.uow() as uow:
        actor = await people.resolve_actor(
            uow, clock, platform="test", external_id=name.lower(), display_name=name
        )
    return actor.person_id


async def _event(
    db: Database,
    clock: FrozenClock,
    organizer: int,
    title: str,
    in_days: float,
    *,
    group: str = "hiking",
    **fields: object,
) -> int:
    draft = EventDraft(
        title=title,
        starts_at=clock.now() + timedelta(days=in_days),
        place="Trailhead",
        **fields,  # type: ignore[arg-type]
    )
    async with db.uow() as uow:
        view = await events.create_event(uow, clock, organizer, group, draft)
    return view.event.id  # type: ignore[return-value]


async def _sign_up(db: Database, clock: FrozenClock, person: int, event_id: int):
    async with db.uow() as uow:
        return await events.sign_up(uow, clock, person, event_id)


async def _cancel(db: Database, clock: FrozenClock, person: int, event_id: int):
    async with db.uow() as uow:
        return await events.cancel_signup(uow, clock, person, event_id)


async def _edit(db: Database, clock: FrozenClock, person: int, event_id: int, **changes):
    async with db.uow() as uow:
        return await events.edit_event(uow, clock, person, event_id, **changes)


async def _roster(db: Database, viewer: int, event_id: int) -> tuple[list[str], list[str]]:
    async with db.uow(readonly=True) as uow:
        result = await events.attendees(uow, viewer, event_id)
    return result.confirmed, result.waitlisted


async def _refused(code: str, coro) -> None:
    with pytest.raises(DomainError) as caught:
        await coro
    assert caught.value.code == code


@pytest.fixture
async def hiking(db: Database, clock: FrozenClock) -> dict[str, int]:
    """Maya owns Hiking; Ann, Bob, Cat, Dan and Eve are people who may sign up."""
    ids = {n: await _person(db, clock, n) for n in ("Maya", "Ann", "Bob", "Cat", "Dan", "Eve")}
    async with db.uow() as uow:
        await groups.create_group(uow, clock, ids["Maya"], name="Hiking")
    return ids


# ---- listing -------------------------------------------------------------------------------


async def test_upcoming_lists_soonest_first_and_drops_past_and_cancelled(
    db: Database, clock: FrozenClock, hiking: dict[str, int]
) -> None:
    maya = hiking["Maya"]
    later = await _event(db, clock, maya, "Later", 9)
    soon = await _event(db, clock, maya, "Soon", 1)
    middle = await _event(db, clock, maya, "Middle", 4)
    dropped = await _event(db, clock, maya, "Dropped", 2)
    async with db.uow() as uow:
        await events.cancel_event(uow, clock, maya, dropped)

    async with db.uow(readonly=True) as uow:
        found = await events.upcoming(uow, clock, hiking["Ann"])
    assert [v.event.id for v in found] == [soon, middle, later]

    clock.advance(2 * DAY)  # "Soon" has started
    async with db.uow(readonly=True) as uow:
        found = await events.upcoming(uow, clock, hiking["Ann"], "hiking")
        first_two = await events.upcoming(uow, clock, hiking["Ann"], limit=1)
    assert [v.event.title for v in found] == ["Middle", "Later"]
    assert [v.event.title for v in first_two] == ["Middle"]


async def test_upcoming_shows_counts_and_my_place(
    db: Database, clock: FrozenClock, hiking: dict[str, int]
) -> None:
    event = await _event(db, clock, hiking["Maya"], "Ridge", 3, capacity=1)
    await _sign_up(db, clock, hiking["Ann"], event)
    await _sign_up(db, clock, hiking["Bob"], event)
    await _sign_up(db, clock, hiking["Cat"], event)
    async with db.uow(readonly=True) as uow:
        [as_cat] = await events.upcoming(uow, clock, hiking["Cat"])
        [as_ann] = await events.upcoming(uow, clock, hiking["Ann"])
        [as_eve] = await events.upcoming(uow, clock, hiking["Eve"])
    assert (as_cat.confirmed, as_cat.waitlisted, as_cat.is_full) == (1, 2, True)
    assert (as_cat.viewer_status, as_cat.viewer_position) == ("waitlisted", 2)
    assert (as_ann.viewer_status, as_ann.viewer_position) == ("confirmed", None)
    assert as_eve.viewer_status is None


async def test_my_events_lists_what_i_signed_up_for(
    db: Database, clock: FrozenClock, hiking: dict[str, int]
) -> None:
    maya, ann = hiking["Maya"], hiking["Ann"]
    far = await _event(db, clock, maya, "Far", 8, capacity=1)
    near = await _event(db, clock, maya, "Near", 2)
    left = await _event(db, clock, maya, "Left", 3)
    await _event(db, clock, maya, "Not mine", 1)
    called_off = await _event(db, clock, maya, "Called off", 4)
    await _sign_up(db, clock, hiking["Bob"], far)
    for event in (far, near, left, called_off):
        await _sign_up(db, clock, ann, event)
    await _cancel(db, clock, ann, left)
    async with db.uow() as uow:
        await events.cancel_event(uow, clock, maya, called_off)

    async with db.uow(readonly=True) as uow:
        mine = await events.my_events(uow, clock, ann)
    assert [(v.event.title, v.viewer_status) for v in mine] == [
        ("Near", "confirmed"),
        ("Far", "waitlisted"),
    ]

    clock.advance(3 * DAY)
    async with db.uow(readonly=True) as uow:
        mine = await events.my_events(uow, clock, ann)
    assert [v.event.title for v in mine] == ["Far"]


async def test_attendees_in_arrival_order(
    db: Database, clock: FrozenClock, hiking: dict[str, int]
) -> None:
    event = await _event(db, clock, hiking["Maya"], "Ridge", 3, capacity=2)
    for name in ("Dan", "Ann", "Eve", "Bob", "Cat"):
        await _sign_up(db, clock, hiking[name], event)
    assert await _roster(db, hiking["Maya"], event) == (["Dan", "Ann"], ["Eve", "Bob", "Cat"])


async def test_who_is_going_card(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead | free | 1")
    await chat.click("ann", "su:1")
    await chat.click("bob", "su:1")
    reply = await chat.click("cat", "wh:1")
    assert reply.text.splitlines() == [
        "Who's going: Ridge",
        "1. ann",
        "",
        "Waitlist",
        "1. bob",
    ]


# ---- signing up ----------------------------------------------------------------------------


async def test_sign_up_through_the_chat(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead | 10 EUR | 2")
    reply = await chat.click("ann", "su:1")
    assert reply.toast == "You're in!"
    assert "✅ You're going." in reply.text and "1/2 going" in reply.text
    assert (await chat.click("ann", "su:1")).toast == "Already signed up."
    await chat.click("bob", "su:1")
    reply = await chat.click("cat", "su:1")
    assert reply.toast == "It's full: you're #1 on the waitlist."
    assert "2/2 going, 1 on the waitlist" in reply.text
    assert "⏳ You're #1 on the waitlist." in reply.text
    assert (await chat.click("cat", "su:1")).toast == "Already on the waitlist (#1)."
    reply = await chat.say("dan", "/signup 1")
    assert reply.text.startswith("It's full: you're #2 on the waitlist.")
    reply = await chat.say("ann", "/event 1")
    assert "💶 10 EUR" in reply.text


async def test_sign_up_closes_at_the_deadline(
    db: Database, clock: FrozenClock, hiking: dict[str, int]
) -> None:
    event = await _event(
        db, clock, hiking["Maya"], "Ridge", 5, signup_deadline=clock.now() + 2 * DAY
    )
    await _sign_up(db, clock, hiking["Ann"], event)
    clock.advance(2 * DAY)  # exactly at the deadline: still open
    await _sign_up(db, clock, hiking["Bob"], event)
    clock.advance(timedelta(minutes=1))
    await _refused("signup_closed", _sign_up(db, clock, hiking["Cat"], event))
    # people already in keep their seat and may still give it up
    assert (await _sign_up(db, clock, hiking["Ann"], event)).status == "already_confirmed"
    await _cancel(db, clock, hiking["Ann"], event)
    await _refused("signup_closed", _sign_up(db, clock, hiking["Ann"], event))
    assert await _roster(db, hiking["Maya"], event) == (["Bob"], [])


async def test_sign_up_closed_through_the_chat(chat: Chat, clock: FrozenClock) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead")
    reply = await chat.say("maya", "/editevent 1 deadline 2026-11-25 18:00")
    assert "Sign-up closes: Wed, 25 Nov 2026, 18:00 (UTC)" in reply.text
    clock.advance(5 * DAY)
    reply = await chat.click("ann", "su:1")
    assert reply.toast == "Sign-up for this activity has closed." and reply.alert
    # the tapped card is redrawn as it stands (REDRAWN_WHEN_REFUSED)
    assert reply.edit and reply.text.startswith("Ridge  #1"), reply.text


async def test_no_sign_up_to_a_cancelled_or_started_activity(
    db: Database, clock: FrozenClock, hiking: dict[str, int]
) -> None:
    maya, ann = hiking["Maya"], hiking["Ann"]
    cancelled = await _event(db, clock, maya, "Called off", 3)
    started = await _event(db, clock, maya, "Early", 1)
    await _sign_up(db, clock, ann, started)
    async with db.uow() as uow:
        await events.cancel_event(uow, clock, maya, cancelled)

    await _refused("event_cancelled", _sign_up(db, clock, ann, cancelled))
    await _refused("event_cancelled", _cancel(db, clock, ann, cancelled))
    async with db.uow() as uow:
        await _refused("event_cancelled", events.cancel_event(uow, clock, maya, cancelled))
    await _refused("event_cancelled", _edit(db, clock, maya, cancelled, title="Back on"))

    clock.advance(DAY)  # the start time itself: it has started
    await _refused("event_started", _sign_up(db, clock, hiking["Bob"], started))
    await _refused("event_started", _cancel(db, clock, ann, started))
    await _refused("event_started", _edit(db, clock, maya, started, title="Renamed"))
    assert await _roster(db, maya, started) == (["Ann"], [])
    assert await _roster(db, maya, cancelled) == ([], [])


async def test_unlimited_activity_never_waitlists(
    db: Database, clock: FrozenClock, hiking: dict[str, int]
) -> None:
    event = await _event(db, clock, hiking["Maya"], "Picnic", 3)
    results = [await _sign_up(db, clock, pid, event) for pid in hiking.values()]
    assert {r.status for r in results} == {"confirmed"}
    async with db.uow(readonly=True) as uow:
        view = await events.get_event(uow, hiking["Ann"], event)
    assert (view.confirmed, view.waitlisted, view.is_full) == (6, 0, False)


# ---- the waitlist moving -------------------------------------------------------------------


async def test_cancelling_gives_the_seat_to_the_first_waiting(
    db: Database, clock: FrozenClock, hiking: dict[str, int]
) -> None:
    event = await _event(db, clock, hiking["Maya"], "Ridge", 3, capacity=2)
    for name in ("Ann", "Bob", "Cat", "Dan"):
        await _sign_up(db, clock, hiking[name], event)

    change = await _cancel(db, clock, hiking["Dan"], event)  # leaves the waitlist
    assert (change.previous_status, change.promoted) == ("waitlisted", [])
    change = await _cancel(db, clock, hiking["Bob"], event)
    assert (change.previous_status, change.promoted) == ("confirmed", [hiking["Cat"]])
    assert await _roster(db, hiking["Maya"], event) == (["Ann", "Cat"], [])
    await _refused("not_signed_up", _cancel(db, clock, hiking["Bob"], event))


async def test_promotion_notice_on_cancel_through_the_chat(chat: Chat) -> None:
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead | free | 1")
    await chat.click("ann", "su:1")
    await chat.click("bob", "su:1")
    await chat.click("cat", "su:1")

    reply = await chat.click("cat", "cx:1")  # a waiting person leaving frees no seat
    assert reply.toast == "You left the waitlist." and sent.sent == []

    reply = await chat.click("ann", "cx:1")
    assert reply.toast == "Your sign-up is cancelled."
    assert [who for who, _ in sent.sent] == ["bob"]  # told once, and nobody else
    [notice] = sent.texts_to("bob")
    assert notice.startswith("Good news: a seat opened up and you're in!")
    assert "Ridge  #1" in notice
    assert "✅ You're going." in (await chat.say("bob", "/event 1")).text


async def test_a_promotion_notice_outlives_the_process_that_promoted(
    db: Database, clock: FrozenClock, hiking: dict[str, int], services: Services
) -> None:
    """The seat and the duty to tell commit together: a process that dies right after the
    commit (here: no worker ran in it) leaves the notice to whichever process runs next, which
    tells the person once. Not told: a person who gave the seat up before that, one who holds
    a seat again by signing up anew (not by a promotion), one whose activity was cancelled."""
    sent = services.notifiers["test"] = RecordingNotifier()
    maya, ann, bob, cat = (hiking[n] for n in ("Maya", "Ann", "Bob", "Cat"))
    event_id = await _event(db, clock, maya, "Ridge", 2, capacity=1)
    for person in (ann, bob, cat):
        await _sign_up(db, clock, person, event_id)
    change = await _cancel(db, clock, ann, event_id)
    assert change.promoted == [bob] and sent.sent == []  # committed; the process "died" here

    assert await NoticeWorker(services, worker="next process").run_due() == 1
    assert [who for who, _ in sent.sent] == ["bob"]
    assert await NoticeWorker(services, worker="and another").run_due() == 0  # not twice

    # Before any worker runs: Bob leaves and Cat moves up; Cat leaves too, and Bob signs up
    # again, straight into the free seat: nobody was promoted into what they hold now
    assert (await _cancel(db, clock, bob, event_id)).promoted == [cat]
    await _cancel(db, clock, cat, event_id)
    assert (await _sign_up(db, clock, bob, event_id)).status == "confirmed"
    assert await NoticeWorker(services).run_due() == 0
    assert [who for who, _ in sent.sent] == ["bob"]

    # Ann waits, Bob leaves and she moves up; then the activity is cancelled
    await _sign_up(db, clock, ann, event_id)
    assert (await _cancel(db, clock, bob, event_id)).promoted == [ann]
    async with db.uow() as uow:
        await events.cancel_event(uow, clock, maya, event_id)
    assert await NoticeWorker(services).run_due() == 1  # the cancellation, not the seat
    assert [who for who, _ in sent.sent] == ["bob", "ann"]
    assert sent.texts_to("ann")[0].startswith("Cancelled: Ridge")


async def test_raising_capacity_promotes_in_order(
    db: Database, clock: FrozenClock, hiking: dict[str, int]
) -> None:
    maya = hiking["Maya"]
    event = await _event(db, clock, maya, "Ridge", 3, capacity=1)
    for name in ("Ann", "Bob", "Cat", "Dan", "Eve"):
        await _sign_up(db, clock, hiking[name], event)

    result = await _edit(db, clock, maya, event, capacity=3)
    assert result.promoted == [hiking["Bob"], hiking["Cat"]]
    assert result.changed == ["capacity"]
    assert await _roster(db, maya, event) == (["Ann", "Bob", "Cat"], ["Dan", "Eve"])

    result = await _edit(db, clock, maya, event, capacity=3)  # same value: nothing happens
    assert (result.changed, result.promoted) == ([], [])

    result = await _edit(db, clock, maya, event, capacity=None)
    assert result.promoted == [hiking["Dan"], hiking["Eve"]]
    assert await _roster(db, maya, event) == (["Ann", "Bob", "Cat", "Dan", "Eve"], [])


async def test_capacity_cannot_drop_below_people_with_a_seat(
    db: Database, clock: FrozenClock, hiking: dict[str, int]
) -> None:
    maya = hiking["Maya"]
    event = await _event(db, clock, maya, "Ridge", 3, capacity=4)
    for name in ("Ann", "Bob", "Cat"):
        await _sign_up(db, clock, hiking[name], event)
    await _refused("capacity_below_confirmed", _edit(db, clock, maya, event, capacity=2))
    result = await _edit(db, clock, maya, event, capacity=3)  # exactly the people in: fine
    assert result.view.is_full
    assert (await _sign_up(db, clock, hiking["Dan"], event)).status == "waitlisted"


async def test_raised_capacity_notifies_the_promoted_through_the_chat(chat: Chat) -> None:
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead | free | 1")
    for name in ("ann", "bob", "cat"):
        await chat.click(name, "su:1")
    reply = await chat.say("maya", "/editevent 1 capacity 2")
    assert reply.text.startswith("Activity #1 updated.")
    assert "2/2 going, 1 on the waitlist" in reply.text
    assert [who for who, _ in sent.sent] == ["bob"]
    assert sent.texts_to("bob")[0].startswith("Good news: a seat opened up and you're in!")


async def test_signing_up_again_after_cancelling_goes_to_the_back(
    db: Database, clock: FrozenClock, hiking: dict[str, int]
) -> None:
    maya, ann, bob, cat = hiking["Maya"], hiking["Ann"], hiking["Bob"], hiking["Cat"]
    event = await _event(db, clock, maya, "Ridge", 3, capacity=1)
    for person in (ann, bob, cat):
        await _sign_up(db, clock, person, event)

    await _cancel(db, clock, bob, event)
    again = await _sign_up(db, clock, bob, event)
    assert (again.status, again.position) == ("waitlisted", 2)  # behind Cat now

    await _cancel(db, clock, ann, event)  # Cat moves up, not Bob
    again = await _sign_up(db, clock, ann, event)
    assert (again.status, again.position) == ("waitlisted", 2)
    assert await _roster(db, maya, event) == (["Cat"], ["Bob", "Ann"])


# ---- organizers changing and cancelling ----------------------------------------------------


async def test_cancelling_an_activity_tells_everyone_signed_up(chat: Chat) -> None:
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead | free | 2")
    for name in ("maya", "ann", "bob", "cat"):
        await chat.click(name, "su:1")
    await chat.click("dan", "su:1")
    await chat.click("dan", "cx:1")  # gave up earlier: not told

    reply = await chat.say("maya", "/cancelevent 1")

    assert reply.text == "Activity #1 is cancelled; everyone signed up is told."
    assert sorted(who for who, _ in sent.sent) == ["ann", "bob", "cat"]  # once each
    assert sent.texts_to("ann")[0].splitlines() == [
        "Cancelled: Ridge",
        "The organizer cancelled this activity.",
        "🕒 Sun, 6 Dec 2026, 07:30 (UTC)",  # which date: a series' dates share their title
    ]
    shown = await chat.say("ann", "/event 1")
    assert shown.text.startswith("[Cancelled] Ridge")
    assert shown.cards[0].buttons == []  # no sign-up buttons on a cancelled activity
    assert "You're going" not in shown.text and "going" not in shown.text  # nobody is, now
    who = await chat.say("maya", "/who 1")
    assert who.text.splitlines()[1] == "It was cancelled: nobody is going. These had signed up."
    assert "No upcoming activities" in (await chat.say("ann", "/events")).text
    tapped = await chat.click("dan", "su:1")  # an old copy's Sign up: refused, and redrawn
    assert tapped.toast == "This activity was cancelled." and tapped.alert
    assert tapped.edit and tapped.text.startswith("[Cancelled] Ridge  #1")
    assert tapped.cards[0].buttons == []


async def test_who_on_a_cancelled_activity_nobody_signed_up_for_says_it_once(
    chat: Chat,
) -> None:
    """It said "These had signed up." and then "Nobody has signed up yet."."""
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead | free | 2")
    await chat.say("maya", "/cancelevent 1")
    who = await chat.say("maya", "/who 1")
    assert who.text.splitlines()[1:] == ["It was cancelled: nobody had signed up."]


async def test_rescheduling_tells_everyone_signed_up(chat: Chat) -> None:
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    await chat.say("maya", "/settings timezone Europe/Berlin")
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead | free | 1")
    for name in ("maya", "ann", "bob"):
        await chat.click(name, "su:1")
    await chat.say("cat", "/join hiking")  # a member, but not signed up

    reply = await chat.say("maya", "/editevent 1 time 2026-12-10 09:00")

    assert reply.text.startswith("Activity #1 updated.")
    assert "🕒 Thu, 10 Dec 2026, 09:00 (Europe/Berlin)" in reply.text
    assert sorted(who for who, _ in sent.sent) == ["ann", "bob"]  # Cat is not signed up
    assert sent.texts_to("bob") == [
        "Activity changed: Ridge\n🕒 Thu, 10 Dec 2026, 09:00 (Europe/Berlin)\n📍 Trailhead\n💶 Free"
    ]
    async with chat.services.db.uow(readonly=True) as uow:
        view = await events.get_event(uow, await chat.person_id("ann"), 1)
    assert view.event.starts_at == datetime(2026, 12, 10, 8, 0, tzinfo=UTC)  # CET is UTC+1

    sent.sent.clear()
    reply = await chat.say("maya", "/editevent 1 place North gate, 52.5200, 13.4050")
    assert sorted(who for who, _ in sent.sent) == ["ann", "bob"]
    assert "📍 North gate, 52.5200, 13.4050" in sent.texts_to("ann")[0]
    sent.sent.clear()
    await chat.say("maya", "/editevent 1 fee 5 EUR")  # a free outing now costs something
    assert sorted(who for who, _ in sent.sent) == ["ann", "bob"]
    assert sent.texts_to("ann")[0].endswith("📍 North gate, 52.5200, 13.4050\n💶 5 EUR")
    sent.sent.clear()
    await chat.say("maya", "/editevent 1 description Bring water")
    assert sent.sent == []  # on the card, not news worth a message
    assert reply.cards[1].place is not None
    assert (reply.cards[1].place.latitude, reply.cards[1].place.longitude) == (52.52, 13.405)


async def test_news_of_a_change_outlives_the_process_that_made_it(
    db: Database, clock: FrozenClock, hiking: dict[str, int], services: Services
) -> None:
    """A new time or place, and a cancellation, commit with the duty to tell the roster: a
    process that dies right after the commit (here: no worker ran in it) leaves the notices to
    whichever process runs next, which tells each person once, what stands by then. Not told:
    whoever made the change, whoever left the roster before the worker ran."""
    sent = services.notifiers["test"] = RecordingNotifier()
    maya, ann, bob, cat = (hiking[n] for n in ("Maya", "Ann", "Bob", "Cat"))
    event_id = await _event(db, clock, maya, "Ridge", 2, capacity=1)
    for person in (maya, ann, bob, cat):  # Maya has the seat; the others wait
        await _sign_up(db, clock, person, event_id)
    await _edit(db, clock, maya, event_id, place="North gate")
    await _edit(db, clock, maya, event_id, starts_at=clock.now() + 3 * DAY)
    assert sent.sent == []  # committed; the process "died" here

    assert await NoticeWorker(services, worker="next process").run_due() == 3
    assert sorted(who for who, _ in sent.sent) == ["ann", "bob", "cat"]  # once each
    [news] = sent.texts_to("cat")
    assert news.startswith("Activity changed: Ridge") and "📍 North gate" in news
    assert await NoticeWorker(services, worker="and another").run_due() == 0  # not twice

    # moved again, then Bob gives up and the activity is cancelled before any worker runs
    sent.sent.clear()
    await _edit(db, clock, maya, event_id, place="Old bridge")
    await _cancel(db, clock, bob, event_id)
    async with db.uow() as uow:
        await events.cancel_event(uow, clock, maya, event_id)
    assert await NoticeWorker(services).run_due() == 2
    assert sorted(who for who, _ in sent.sent) == ["ann", "cat"]
    assert sent.texts_to("ann")[0].startswith("Cancelled: Ridge")  # what stands, told once


async def test_news_asked_again_while_it_is_told_is_told_once_as_it_stands(
    db: Database, clock: FrozenClock, hiking: dict[str, int], services: Services
) -> None:
    """A second change lands while the worker is telling the first: that run tells nothing,
    the run after it tells the latest, once. The same for a second promotion of one sign-up."""
    sent = services.notifiers["test"] = RecordingNotifier()
    maya, ann, bob = hiking["Maya"], hiking["Ann"], hiking["Bob"]
    event_id = await _event(db, clock, maya, "Ridge", 2, capacity=1)
    for person in (maya, ann):
        await _sign_up(db, clock, person, event_id)
    await _edit(db, clock, maya, event_id, place="North gate")
    worker = NoticeWorker(services, worker="telling")
    async with db.uow() as uow:
        claimed = await worker.claim_batch(uow, clock.now())
    await _edit(db, clock, maya, event_id, place="Old bridge")  # while the first is told
    assert await worker.process(claimed) == 0 and sent.sent == []
    assert await worker.run_due() == 1
    [news] = sent.texts_to("ann")
    assert "📍 Old bridge" in news

    # Ann is promoted; while that is told she gives the seat up (Bob moves up), signs up anew
    # and is promoted again when Bob leaves: told once, of the seat she holds now
    sent.sent.clear()
    await _sign_up(db, clock, bob, event_id)
    assert (await _cancel(db, clock, maya, event_id)).promoted == [ann]
    async with db.uow() as uow:
        claimed = await worker.claim_batch(uow, clock.now())
    assert (await _cancel(db, clock, ann, event_id)).promoted == [bob]
    assert (await _sign_up(db, clock, ann, event_id)).status == "waitlisted"
    assert (await _cancel(db, clock, bob, event_id)).promoted == [ann]
    assert await worker.process(claimed) == 0
    assert await worker.run_due() == 1  # Ann; not Bob, who left
    assert [who for who, _ in sent.sent] == ["ann"]


async def test_times_are_read_in_the_groups_timezone(chat: Chat) -> None:
    await chat.say("maya", "/settings timezone Asia/Shanghai")
    await chat.say("maya", "/newgroup Hiking")
    reply = await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead")
    assert "🕒 Sun, 6 Dec 2026, 07:30 (Asia/Shanghai)" in reply.text
    async with chat.services.db.uow(readonly=True) as uow:
        view = await events.get_event(uow, await chat.person_id("maya"), 1)
    assert view.event.starts_at == datetime(2026, 12, 5, 23, 30, tzinfo=UTC)


async def test_organizer_can_still_change_details_after_sign_up_closed(
    db: Database, clock: FrozenClock, hiking: dict[str, int]
) -> None:
    maya = hiking["Maya"]
    deadline = clock.now() + DAY
    event = await _event(db, clock, maya, "Ridge", 5, signup_deadline=deadline)
    await _sign_up(db, clock, hiking["Ann"], event)
    clock.advance(2 * DAY)  # sign-up has closed; the activity is still ahead

    result = await _edit(db, clock, maya, event, place="North gate")
    assert result.changed == ["place"]
    result = await _edit(db, clock, maya, event, starts_at=clock.now() + 4 * DAY)
    assert result.changed == ["starts_at"]
    assert result.view.event.signup_deadline == deadline
    # but a new deadline must still be ahead
    await _refused("bad_deadline", _edit(db, clock, maya, event, signup_deadline=clock.now() - DAY))
    await _edit(db, clock, maya, event, signup_deadline=None)
    assert (await _sign_up(db, clock, hiking["Bob"], event)).status == "confirmed"


async def test_only_the_organizer_or_an_admin_changes_an_activity(
    db: Database, clock: FrozenClock, hiking: dict[str, int]
) -> None:
    maya, ann, bob = hiking["Maya"], hiking["Ann"], hiking["Bob"]
    for person in (ann, bob):
        async with db.uow() as uow:
            await groups.join_group(uow, clock, person, "hiking")
    async with db.uow() as uow:
        await groups.set_members_can_create_events(uow, maya, "hiking", True)
    anns = await _event(db, clock, ann, "Ann's walk", 3)
    mayas = await _event(db, clock, maya, "Maya's walk", 3)

    assert (await _edit(db, clock, ann, anns, title="Ann's long walk")).changed == ["title"]
    await _refused("not_event_manager", _edit(db, clock, ann, mayas, title="Mine"))
    await _refused("not_event_manager", _edit(db, clock, bob, anns, title="Mine"))
    assert (await _edit(db, clock, maya, anns, capacity=5)).changed == ["capacity"]  # admin
    async with db.uow() as uow:
        await groups.set_role(uow, maya, "hiking", "Bob", Role.ADMIN)
    assert (await _edit(db, clock, bob, anns, capacity=6)).changed == ["capacity"]
    async with db.uow(readonly=True) as uow:
        assert (await events.get_event(uow, bob, anns)).can_manage
        assert not (await events.get_event(uow, hiking["Cat"], anns)).can_manage


async def test_someone_no_private_message_reaches_hears_of_their_activity_in_its_home_chat(
    chat: Chat,
) -> None:
    """Ben tapped Sign up in the group's chat and never started the bot: his seat from the
    waitlist reaches him as a mention in that chat (text only: buttons there would act for
    whoever pressed them). The move of the activity is not mentioned (the chat's live card
    shows it; a crowd's mentions would flood the chat), nor a ban (nobody else's business)."""
    sent = chat.services.notifiers["test"] = RecordingNotifier(unreachable={"ben"})
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-12 09:00 | Trailhead | free | 1")
    async with chat.services.db.uow() as uow:
        uow.session.add(GroupChat(group_id=1, platform="test", chat_id="hikers", locale="en"))
        await uow.commit()
    await chat.click("ann", "su:1")
    await chat.click("ben", "su:1")  # waitlisted

    await chat.click("ann", "cx:1")
    [(where, seat)] = sent.posted
    assert where == "hikers"
    assert seat.text.startswith("ben: Good news: a seat opened up and you're in!\nRidge  #1")
    assert seat.text.endswith("start a chat with me to get this news there.")
    assert seat.buttons == []
    assert sent.texts_to("ben") == []  # nothing reached him privately

    await chat.say("maya", "/editevent 1 place North gate")  # the chat's live card shows it
    await chat.say("maya", "/ban hiking ben")  # told to him alone, or not at all
    assert len(sent.posted) == 1


async def test_none_clears_the_description_as_it_clears_other_fields(chat: Chat) -> None:
    """ "none" clears a description, as it clears a capacity or the reminders; it was kept as
    the word."""
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead")
    described = await chat.say("maya", "/editevent 1 description Bring water")
    assert "Bring water" in described.text
    for word in ("none", "None", "-"):
        await chat.say("maya", "/editevent 1 description Bring water")
        cleared = await chat.say("maya", f"/editevent 1 description {word}")
        assert cleared.text.startswith("Activity #1 updated.")
        assert "Bring water" not in cleared.text and not cleared.text.endswith(word)
        async with chat.services.db.uow(readonly=True) as uow:
            view = await events.get_event(uow, await chat.person_id("maya"), 1)
        assert view.event.description == ""

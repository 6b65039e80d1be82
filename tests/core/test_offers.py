"""Timed waitlist offers: a freed seat is offered to the first person waiting, with Accept and
Pass and a deadline; unanswered, it passes to the next, also across a restart."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from core.chat import Services
from core.models import GroupChat
from core.offers import OfferWorker
from tests.support import Chat, RecordingNotifier


async def _full_with_two_waiting(chat: Chat, services: Services) -> RecordingNotifier:
    notifier = services.notifiers["test"] = RecordingNotifier()
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-11-24 12:00 | Trailhead | free | 1")
    reply = await chat.say("maya", "/editevent 1 offers 2h")
    assert "updated" in reply.text
    await chat.click("ann", "su:1")
    await chat.click("bob", "su:1")  # waits, first
    await chat.click("cid", "su:1")  # waits, second
    return notifier


async def _status(services: Services, name: str) -> str:
    async with services.db.engine.connect() as conn:
        return (
            await conn.execute(
                text(
                    "SELECT r.status FROM registration r JOIN person p ON p.id = r.person_id "
                    "WHERE p.display_name = :name"
                ),
                {"name": name},
            )
        ).scalar_one()


async def test_a_freed_seat_is_offered_and_can_be_accepted(chat: Chat, services) -> None:
    notifier = await _full_with_two_waiting(chat, services)
    await chat.click("ann", "cx:1")
    assert await OfferWorker(services).run_due() == 1  # tells Bob
    [offer] = notifier.texts_to("bob")
    assert "A seat opened up for you" in offer and "held for you until" in offer
    assert await _status(services, "bob") == "offered"
    shown = await chat.say("bob", "/event 1")
    assert "held for you until" in shown.text
    taken = await chat.click("bob", "oa:1")
    assert taken.toast == "The seat is yours. See you there!"
    assert await _status(services, "bob") == "confirmed"
    late = await chat.click("bob", "oa:1")
    assert late.toast == "The seat is yours already."  # not "no seat offered", a second tap


async def test_a_tap_on_sign_up_takes_the_seat_held_for_them(chat: Chat, services) -> None:
    """The group chat's card shows Sign up to everyone, Bob included while a seat is held for
    him: his tap takes it (it answered "Something went wrong" before), as /signup does."""
    await _full_with_two_waiting(chat, services)
    await chat.click("ann", "cx:1")
    await OfferWorker(services).run_due()
    tapped = await chat.click("bob", "su:1")
    assert tapped.toast == "You're in!"
    assert "✅ You're going." in tapped.text
    assert await _status(services, "bob") == "confirmed"
    assert await _status(services, "cid") == "waitlisted"  # nothing passed on
    typed = await chat.say("bob", "/signup 1")
    assert typed.text.startswith("Already signed up.")


async def test_a_tap_after_the_offer_ran_out_passes_it_on_and_signs_up_again(
    chat: Chat, services, clock
) -> None:
    """Bob's held seat ran out a moment before its job passed it on: his tap on Sign up passes
    it on (to Cid) and puts him back in line, where it said "no seat is offered" before."""
    await _full_with_two_waiting(chat, services)
    await chat.click("ann", "cx:1")
    await OfferWorker(services).run_due()
    clock.advance(timedelta(hours=2, minutes=1))  # the deadline passed; the job has not run
    tapped = await chat.click("bob", "su:1")
    assert tapped.toast == "It's full: you're #1 on the waitlist."
    assert await _status(services, "cid") == "offered"
    assert await _status(services, "bob") == "waitlisted"


async def test_passing_offers_the_seat_to_the_next(chat: Chat, services) -> None:
    notifier = await _full_with_two_waiting(chat, services)
    await chat.click("ann", "cx:1")
    await OfferWorker(services).run_due()
    passed = await chat.click("bob", "op:1")
    assert passed.toast == "Passed on: the seat goes to the next person waiting."
    await OfferWorker(services).run_due()
    assert await _status(services, "cid") == "offered"
    assert len(notifier.texts_to("cid")) == 1


async def test_an_unanswered_offer_passes_to_the_next_across_a_restart(
    chat: Chat, services, clock
) -> None:
    notifier = await _full_with_two_waiting(chat, services)
    await chat.click("ann", "cx:1")
    first = OfferWorker(services, worker="before")
    await first.run_due()  # Bob is told; then this process stops
    clock.advance(timedelta(hours=2, seconds=1))  # past the deadline, while down
    restarted = OfferWorker(services, worker="after")
    assert await restarted.run_due() == 2  # Bob's offer expires, Cid is told
    assert await _status(services, "bob") == "cancelled"
    assert await _status(services, "cid") == "offered"
    expired = notifier.texts_to("bob")[-1]
    assert "ran out, and you left its waitlist" in expired and "Sign up again" in expired
    assert len(notifier.texts_to("bob")) == 2 and len(notifier.texts_to("cid")) == 1
    assert await restarted.run_due() == 0  # each step once
    async with services.db.engine.connect() as conn:
        going = (await conn.execute(text("SELECT going, waiting FROM event"))).one()
    assert tuple(going) == (1, 0)  # Cid's offered seat is held; nobody else waits


async def test_an_offer_close_to_the_start_is_shorter(chat: Chat, services, clock) -> None:
    await _full_with_two_waiting(chat, services)
    clock.set(clock.now().replace(year=2026, month=11, day=24, hour=11, minute=0))
    await chat.click("ann", "cx:1")  # an hour before the start: held for 30 minutes
    async with services.db.engine.connect() as conn:
        until = (
            await conn.execute(text("SELECT offer_until FROM registration WHERE status='offered'"))
        ).scalar_one()
    assert str(until).startswith("2026-11-24 11:30")


async def test_bad_offer_windows_are_refused(chat: Chat, services) -> None:
    await _full_with_two_waiting(chat, services)
    reply = await chat.say("maya", "/editevent 1 offers soon")
    assert "like 2h or 30m, or off" in reply.text


async def test_an_offer_no_private_message_reaches_is_said_in_the_home_chat(
    chat: Chat, services
) -> None:
    """Bob never started the bot: the seat held for him is said in the group's chat, behind a
    mention, without buttons; his tap on the card's Sign up there takes it."""
    notifier = await _full_with_two_waiting(chat, services)
    notifier.unreachable.add("bob")
    async with services.db.uow() as uow:
        uow.session.add(GroupChat(group_id=1, platform="test", chat_id="hikers", locale="en"))
        await uow.commit()
    await chat.click("ann", "cx:1")
    await OfferWorker(services).run_due()
    [(where, said)] = notifier.posted
    assert where == "hikers" and said.text.startswith("bob: 🎟 A seat opened up for you: Ridge")
    assert said.buttons == []  # an Accept there would take it for whoever pressed it
    assert "tap ✅ Sign up on its card or send /signup 1" in said.text
    assert "Take it, or pass it" not in said.text
    assert (await chat.click("bob", "su:1")).toast == "You're in!"


async def test_who_shows_the_seat_held_among_those_going(chat: Chat, services) -> None:
    """The card counts Bob's held seat ("1/1 going, 1 on the waitlist"): /who said "Nobody has
    signed up yet" and showed Bob nowhere."""
    await _full_with_two_waiting(chat, services)
    await chat.click("ann", "cx:1")
    who = await chat.say("maya", "/who 1")
    assert who.text.splitlines()[1:] == [
        "1. bob · seat held for them, not taken yet",
        "",
        "Waitlist",
        "1. cid",
    ]

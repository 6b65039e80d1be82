"""Reminders: the right moments, the right people, exactly once — across restarts and processes.

The clock is injected: tests move it instead of sleeping for the real offsets.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from core import work
from core.chat import Services
from core.clock import FrozenClock, SystemClock
from core.db import Database
from core.models import Delivery, Event, GroupChat, Reminder
from core.scheduler import ReminderRunner
from core.services import reminders
from tests.support import START, Chat, RecordingNotifier

STARTS = START + timedelta(days=3)  # 2026-11-24 12:00 UTC, the activity below


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    services.notifiers["test"] = RecordingNotifier()
    return services.notifiers["test"]  # type: ignore[return-value]


async def _activity(chat: Chat, capacity: int = 5, offsets: str = "24h,1h") -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say(
        "maya", f"/newevent hiking | Ridge | 2026-11-24 12:00 | Trailhead | free | {capacity}"
    )
    await chat.say("maya", f"/editevent 1 reminders {offsets}")


async def _at(runner: ReminderRunner, clock: FrozenClock, when) -> int:
    clock.set(when)
    return await runner.run_due()


async def test_default_offsets_fire_at_their_moments(chat: Chat, services, clock, notifier) -> None:
    await _activity(chat)
    await chat.click("ana", "su:1")
    runner = ReminderRunner(services)
    assert await _at(runner, clock, STARTS - timedelta(hours=24, seconds=1)) == 0
    assert await _at(runner, clock, STARTS - timedelta(hours=24)) == 1
    assert await runner.run_due() == 0  # never twice
    assert await _at(runner, clock, STARTS - timedelta(hours=1, minutes=1)) == 0
    assert await _at(runner, clock, STARTS - timedelta(hours=1)) == 1
    texts = notifier.texts_to("ana")
    assert len(texts) == 2
    assert "Reminder: Ridge starts in 1 day" in texts[0]
    assert "Reminder: Ridge starts in 1 hour" in texts[1]
    assert "Trailhead" in texts[1]


async def test_a_reminder_a_moment_late_speaks_of_whole_minutes(
    chat: Chat, services, clock, notifier
) -> None:
    """With offsets 2m,1m the second one, sent a few milliseconds after its mark, read "starts
    in 60 seconds" (zh "60秒钟")."""
    await _activity(chat, offsets="2m,1m")
    await chat.click("ana", "su:1")
    runner = ReminderRunner(services)
    await _at(runner, clock, STARTS - timedelta(minutes=2) + timedelta(milliseconds=20))
    await _at(runner, clock, STARTS - timedelta(minutes=1) + timedelta(milliseconds=20))
    texts = notifier.texts_to("ana")
    assert "starts in 2 minutes" in texts[0] and "starts in 1 minute" in texts[1]


async def test_recipients_are_computed_when_it_fires(chat: Chat, services, clock, notifier) -> None:
    await _activity(chat, capacity=2)
    for who in ("ana", "ben", "cy"):
        await chat.click(who, "su:1")  # cy waits
    runner = ReminderRunner(services)
    await _at(runner, clock, STARTS - timedelta(hours=24))
    assert sorted(n for n, _ in notifier.sent) == ["ana", "ben"]
    await chat.click("ben", "cx:1")  # cy moves up
    await chat.click("dan", "su:1")  # late: waitlisted, gets nothing
    await chat.say("ana", "/settings reminders off")
    notifier.sent.clear()
    await _at(runner, clock, STARTS - timedelta(hours=1))
    assert [n for n, _ in notifier.sent] == ["cy"]


async def test_personal_offsets_replace_the_activitys(
    chat: Chat, services, clock, notifier
) -> None:
    await _activity(chat)
    await chat.say("ana", "/settings reminders 3h")
    await chat.click("ana", "su:1")
    await chat.click("ben", "su:1")
    runner = ReminderRunner(services)
    await _at(runner, clock, STARTS - timedelta(hours=24))
    assert [n for n, _ in notifier.sent] == ["ben"]
    await _at(runner, clock, STARTS - timedelta(hours=3))
    assert [n for n, _ in notifier.sent] == ["ben", "ana"]
    assert "starts in 3 hours" in notifier.sent[-1][1].text


async def test_reschedule_moves_reminders_and_tells_people(
    chat: Chat, services, clock, notifier
) -> None:
    await _activity(chat)
    await chat.click("ana", "su:1")
    runner = ReminderRunner(services)
    await _at(runner, clock, STARTS - timedelta(hours=24))
    changed = []
    services.db.listeners.append(changed.append)
    notifier.sent.clear()  # the 24-hour reminder
    await chat.say("maya", "/editevent 1 time 2026-11-26 12:00")
    assert [text.splitlines()[0] for text in notifier.texts_to("ana")] == [
        "Activity changed: Ridge"
    ]
    assert any(change.reminders for change in changed)  # the runner is told to re-arm
    notifier.sent.clear()
    assert await _at(runner, clock, STARTS - timedelta(hours=1)) == 0  # the old time is void
    moved = STARTS + timedelta(days=2)
    assert await _at(runner, clock, moved - timedelta(hours=24)) == 1  # again, for the new time
    assert await _at(runner, clock, moved - timedelta(hours=1)) == 1


async def test_cancelling_drops_reminders_and_tells_people(
    chat: Chat, services, clock, notifier
) -> None:
    await _activity(chat)
    await chat.click("ana", "su:1")
    await chat.say("maya", "/cancelevent 1")
    assert [text.splitlines()[0] for text in notifier.texts_to("ana")] == ["Cancelled: Ridge"]
    runner = ReminderRunner(services)
    assert await _at(runner, clock, STARTS - timedelta(hours=1)) == 0
    assert [text for text in notifier.texts_to("ana") if "Reminder" in text] == []


async def test_missed_while_down_late_if_not_started_else_skipped(
    chat: Chat,
    services,
    clock,
    notifier,
) -> None:
    await _activity(chat)
    await chat.click("ana", "su:1")
    runner = ReminderRunner(services)
    # down through the 24h reminder, back 2 hours before the start: it is sent late
    assert await _at(runner, clock, STARTS - timedelta(hours=2)) == 1
    # down through the 1h reminder and the start: skipped, and the organizer can see it
    assert "starts in 2 hours" in notifier.texts_to("ana")[0]  # the truth, not "1 day"
    assert await _at(runner, clock, STARTS + timedelta(minutes=5)) == 0
    log = (await chat.say("maya", "/deliveries 1")).text
    assert "1 sent, 0 failed" in log and "1 reminder skipped" in log


async def test_back_after_a_long_downtime_only_the_closest_reminder_goes_out(
    chat: Chat,
    services,
    clock,
    notifier,
) -> None:
    await _activity(chat)
    await chat.click("ana", "su:1")
    assert await _at(ReminderRunner(services), clock, STARTS - timedelta(minutes=30)) == 1
    [text] = notifier.texts_to("ana")
    assert "starts in 30 minutes" in text


async def test_stopping_lets_a_job_in_progress_finish(
    services, caplog: pytest.LogCaptureFixture
) -> None:
    """The bot stopping mid-send (a reminder, or the re-arm after a sign-up at /quit) waits for
    the job instead of cancelling it halfway, and logs no error."""
    runner = ReminderRunner(services)
    await runner.start()
    started, release, finished = asyncio.Event(), asyncio.Event(), []

    async def sending() -> int:
        started.set()
        await release.wait()
        finished.append("sent")
        return 1

    runner.run_due = sending  # type: ignore[method-assign]  # a pass that is sending
    runner.poke()
    async with asyncio.timeout(5):
        await started.wait()
    stopping = asyncio.create_task(runner.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()  # waiting for the job
    release.set()
    async with asyncio.timeout(5):
        await stopping
    assert finished == ["sent"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_restart_delivers_exactly_once(chat: Chat, services, clock, notifier) -> None:
    await _activity(chat)
    await chat.click("ana", "su:1")
    first = ReminderRunner(services, worker="first")
    await first.start()
    await first.stop()  # the bot stops
    clock.set(STARTS - timedelta(hours=24) + timedelta(minutes=10))  # time passes meanwhile
    second = ReminderRunner(services, worker="second")
    await second.start()  # start-up catches up
    await second.stop()  # stops right after sending
    third = ReminderRunner(services, worker="third")
    await third.start()
    await third.stop()
    assert len(notifier.texts_to("ana")) == 1


async def test_a_crash_mid_send_never_sends_twice(chat: Chat, services, clock, notifier) -> None:
    """The process died after recording Ana's delivery and before finishing: after the lease
    runs out another process takes over, and sends to everyone else but not Ana again."""
    await _activity(chat)
    for who in ("ana", "ben"):
        await chat.click(who, "su:1")
    clock.set(STARTS - timedelta(hours=24))
    lease = timedelta(minutes=10)
    async with services.db.uow() as uow:
        [claimed] = await work.claim(uow, Reminder, clock.now(), "dead", limit=1, lease=lease)
    async with services.db.uow() as uow:
        firing = await reminders.prepare(uow, claimed.id, clock.now())
    async with services.db.uow() as uow:
        assert await reminders.record(uow, firing, firing.recipients[0].person.id, clock.now())
    runner = ReminderRunner(services, worker="alive", lease=lease)
    assert await runner.run_due() == 0  # still leased to the dead process
    clock.advance(lease + timedelta(seconds=1))
    assert await runner.run_due() == 1
    assert [n for n, _ in notifier.sent] == ["ben"]


async def test_unreachable_people_are_logged_and_mentioned_in_the_home_chat(
    chat: Chat,
    services,
    clock,
    notifier,
) -> None:
    await _activity(chat)
    async with services.db.uow() as uow:
        uow.session.add(GroupChat(group_id=1, platform="test", chat_id="hikers", locale="en"))
        await uow.commit()
    for who in ("ana", "ben"):
        await chat.click(who, "su:1")
    notifier.unreachable.add("ben")
    await _at(ReminderRunner(services), clock, STARTS - timedelta(hours=24))
    [(where, card)] = notifier.posted
    assert where == "hikers" and card.text.startswith("ben: reminder")
    log = (await chat.say("maya", "/deliveries 1")).text
    assert "1 sent, 1 failed" in log
    assert "blocked by the user; mentioned in the group's chat" in log
    denied = await chat.say("ana", "/deliveries 1")
    assert denied.text.startswith("⚠️")


async def test_a_crowd_no_private_message_reaches_is_named_together_in_the_home_chat(
    chat: Chat,
    services,
    clock,
    notifier,
) -> None:
    """25 people who tapped Sign up in the group's chat and never started the bot: their
    reminder names them together, 20 to a message (a group chat takes 20 a minute), not in 25
    messages; each delivery log says so."""
    await _activity(chat, capacity=30)
    async with services.db.uow() as uow:
        uow.session.add(GroupChat(group_id=1, platform="test", chat_id="hikers", locale="en"))
        await uow.commit()
    crowd = [f"p{n:02d}" for n in range(25)]
    for who in ["ana", *crowd]:
        await chat.click(who, "su:1")
    notifier.unreachable.update(crowd)
    await _at(ReminderRunner(services), clock, STARTS - timedelta(hours=24))
    assert [who for who, _ in notifier.sent] == ["ana"]
    assert [where for where, _ in notifier.posted] == ["hikers", "hikers"]
    first, second = (card for _, card in notifier.posted)
    assert first.text.startswith("p00, p01, ") and first.text.count(", p") == 19
    assert second.text.startswith("p20, p21, p22, p23, p24: reminder — Ridge starts")
    log = (await chat.say("maya", "/deliveries 1")).text
    assert "1 sent, 25 failed" in log
    assert log.count("mentioned in the group's chat") == 25


async def test_release_my_spot_from_the_reminder_promotes_the_next(
    chat: Chat,
    services,
    clock,
    notifier,
) -> None:
    await _activity(chat, capacity=1)
    await chat.click("ana", "su:1")
    await chat.click("ben", "su:1")
    await _at(ReminderRunner(services), clock, STARTS - timedelta(hours=24))
    [(_, card)] = notifier.sent
    [[button]] = card.buttons
    assert button.label == "Can't come? Release my spot"
    from core.actions import encode

    reply = await chat.click("ana", encode(button.action))  # type: ignore[arg-type]
    assert reply.toast == "Your sign-up is cancelled."
    [told] = notifier.texts_to("ben")
    assert told.startswith("Good news: a seat opened up and you're in!")


async def test_a_maybe_is_reminded_without_a_spot_to_release(
    chat: Chat,
    services,
    clock,
    notifier,
) -> None:
    """Li, a maybe who asked for the reminders, got "Can't come? Release my spot", and its
    tap answered "Your sign-up is cancelled." and took her off the Maybe list quietly."""
    from core.actions import encode

    await _activity(chat)
    await chat.click("li", "mb:1")
    await chat.click("li", "rm:1")
    await _at(ReminderRunner(services), clock, STARTS - timedelta(hours=24))
    [(_, card)] = notifier.sent
    [buttons] = card.buttons
    assert [b.label for b in buttons] == ["✅ Sign up", "🔕 Stop reminders"]
    stopped = await chat.click("li", encode(buttons[1].action))  # type: ignore[arg-type]
    assert stopped.toast == "No reminders for you: you're still a maybe."
    assert "1. li" in (await chat.say("maya", "/who 1")).text.split("Maybe")[1]
    # a reminder sent before (it still carries Release my spot) says what it did
    released = await chat.click("li", "rl:1")
    assert released.toast == "You're no longer a maybe."


@pytest.mark.postgres
async def test_two_processes_on_one_postgres_deliver_each_once(
    postgres_url: str,
    clock,
    settings,
) -> None:
    from tests.conftest import _postgres

    one = await _postgres(postgres_url)
    two = Database(postgres_url)
    sent = RecordingNotifier()
    first = Services(db=one, clock=clock, settings=settings, notifiers={"test": sent})
    second = Services(db=two, clock=clock, settings=settings, notifiers={"test": sent})
    chat = Chat(first)
    await chat.say("maya", "/newgroup Hiking")
    for number in range(8):
        await chat.say("maya", f"/newevent hiking | Walk {number} | 2026-11-24 12:00 | Park")
        for who in range(10):
            await chat.click(f"p{who}", f"su:{number + 1}")
    clock.set(STARTS - timedelta(hours=1))
    a = ReminderRunner(first, worker="a", batch=2)
    b = ReminderRunner(second, worker="b", batch=2)
    counts = await asyncio.gather(a.run_due(), b.run_due(), a.run_due(), b.run_due())
    # 8 activities x 10 people; the late 24h reminders are skipped for the closer 1h ones
    assert sum(counts) == 80
    keys = [(name, card.text.split("\n")[0]) for name, card in sent.sent]
    assert len(keys) == len(set(keys)) == 80
    async with one.uow(readonly=True) as uow:
        deliveries = (await uow.session.exec(select(Delivery))).all()
        claimed_by = {r.claimed_by for r in (await uow.session.exec(select(Reminder))).all()}
    assert len(deliveries) == 80
    assert claimed_by <= {"a", "b"}
    await one.dispose()
    await two.dispose()


async def test_the_scheduler_wakes_at_the_due_time(sqlite_db, settings) -> None:
    """Real time, a short offset: no test calls run_due; APScheduler's alarm must."""
    services = Services(db=sqlite_db, clock=SystemClock(), settings=settings)
    notifier = RecordingNotifier()
    services.notifiers["test"] = notifier
    runner = ReminderRunner(services)
    await runner.start()
    try:
        chat = Chat(services)
        await chat.say("maya", "/newgroup Hiking")
        starts = SystemClock().now() + timedelta(minutes=2)
        when = starts.strftime("%Y-%m-%d %H:%M")
        await chat.say("maya", f"/newevent hiking | Soon | {when} | Park")
        await chat.click("ana", "su:1")
        async with sqlite_db.uow(readonly=True) as uow:
            event = (await uow.session.exec(select(Event))).one()
        offset = int((event.starts_at - SystemClock().now()).total_seconds()) - 2
        await chat.say("maya", f"/editevent 1 reminders {offset}s")  # due in about 2 s
        async with asyncio.timeout(15):
            await notifier.arrived.wait()
        assert notifier.texts_to("ana")
    finally:
        await runner.stop()


async def test_configured_default_offsets_apply_to_new_activities(
    services, clock, notifier
) -> None:
    services.settings.reminder_offsets = "2h"
    chat = Chat(services)
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-11-24 12:00 | Trailhead")
    await chat.click("ana", "su:1")
    runner = ReminderRunner(services)
    assert await _at(runner, clock, STARTS - timedelta(hours=24)) == 0
    assert await _at(runner, clock, STARTS - timedelta(hours=2)) == 1

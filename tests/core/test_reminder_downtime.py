"""Back after downtime: each person gets the closest reminder among the offsets they want, once
(issue #12: Dan on his own 3m offset was reminded and Bob on the activity's 4m got nothing)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.chat import Services
from core.scheduler import ReminderRunner
from tests.support import START, Chat, RecordingNotifier

STARTS = START + timedelta(days=3)


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    services.notifiers["test"] = RecordingNotifier()
    return services.notifiers["test"]  # type: ignore[return-value]


async def _activity(chat: Chat, offsets: str) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-11-24 12:00 | Trailhead | free | 9")
    await chat.say("maya", f"/editevent 1 reminders {offsets}")


async def test_everyone_gets_their_own_closest_reminder_after_downtime(
    chat: Chat, services, clock, notifier
) -> None:
    await _activity(chat, "4m")
    await chat.say("dan", "/settings reminders 3m")
    await chat.click("bob", "su:1")  # the activity's offsets: 4m
    await chat.click("dan", "su:1")  # his own: 3m
    clock.set(STARTS - timedelta(minutes=2))  # down past both due times, back before the start
    assert await ReminderRunner(services).run_due() == 2
    [bobs] = notifier.texts_to("bob")
    [dans] = notifier.texts_to("dan")
    assert "starts in 2 minutes" in bobs and "starts in 2 minutes" in dans
    assert await ReminderRunner(services).run_due() == 0


async def test_two_of_ones_own_offsets_overdue_give_one_reminder(
    chat: Chat, services, clock, notifier
) -> None:
    await _activity(chat, "24h,1h")
    await chat.click("ann", "su:1")
    await chat.say("eve", "/settings reminders 3h,2h")
    await chat.click("eve", "su:1")
    clock.set(STARTS - timedelta(minutes=30))  # everything overdue
    assert await ReminderRunner(services).run_due() == 2
    assert len(notifier.texts_to("ann")) == 1 and len(notifier.texts_to("eve")) == 1

"""Reaching a person with accounts on two platforms: once, on the preferred platform, with the
other account as the fallback; the delivery log says which way each reminder went."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from core.chat import Services, handle_text
from core.models import Delivery, Identity, Person
from core.scheduler import ReminderRunner
from tests.support import START, Chat, RecordingNotifier

STARTS = START + timedelta(days=3)


@pytest.fixture
def two(services: Services) -> tuple[RecordingNotifier, RecordingNotifier]:
    """The chat's own platform ("test") and a second one ("other")."""
    here, there = RecordingNotifier(), RecordingNotifier(platform="other")
    services.notifiers.update(test=here, other=there)
    return here, there


async def _ana_on_both(chat: Chat, preferred: str | None) -> int:
    """Ana has an account on each platform (as after /link), and maybe a preference."""
    ana = await chat.person_id("ana")
    async with chat.services.db.uow() as uow:
        uow.session.add(Identity(person_id=ana, platform="other", external_id="ana-elsewhere"))
        person = await uow.session.get(Person, ana)
        person.preferred_platform = preferred  # type: ignore[union-attr]
        uow.session.add(person)
        await uow.commit()
    return ana


async def _full_activity_with_ana_waiting(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-11-24 12:00 | Trailhead | free | 1")
    await chat.click("ben", "su:1")
    await chat.click("ana", "su:1")  # waitlisted


async def test_a_promotion_goes_once_to_the_preferred_platform(chat: Chat, two) -> None:
    here, there = two
    await _full_activity_with_ana_waiting(chat)
    await _ana_on_both(chat, preferred="other")
    await chat.click("ben", "cx:1")
    [told] = there.texts_to("ana-elsewhere")
    assert "a seat opened up" in told
    assert here.texts_to("ana") == []  # once, not once per account


async def test_when_the_preferred_account_fails_the_other_one_is_used(chat: Chat, two) -> None:
    here, there = two
    await _full_activity_with_ana_waiting(chat)
    await _ana_on_both(chat, preferred="other")
    there.unreachable.add("ana-elsewhere")  # closed DMs over there
    await chat.click("ben", "cx:1")
    assert len(here.texts_to("ana")) == 1


async def test_a_reminder_goes_once_and_the_log_says_where(
    chat: Chat, services: Services, clock, two
) -> None:
    here, there = two
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-11-24 12:00 | Trailhead | free | 5")
    await chat.click("ana", "su:1")
    ana = await _ana_on_both(chat, preferred=None)
    async with services.db.uow() as uow:  # she used the other platform last
        person = await uow.session.get(Person, ana)
        person.last_platform = "other"  # type: ignore[union-attr]
        uow.session.add(person)
        await uow.commit()
    clock.set(STARTS - timedelta(hours=1))
    assert await ReminderRunner(services).run_due() == 1
    assert len(there.texts_to("ana-elsewhere")) == 1 and here.texts_to("ana") == []
    async with services.db.uow(readonly=True) as uow:
        [delivery] = (
            await uow.session.exec(select(Delivery).where(Delivery.person_id == ana))
        ).all()
    assert (delivery.status, delivery.platform) == ("sent", "other")


async def test_the_log_says_which_platform_a_reminder_fell_back_to_and_why(
    chat: Chat, services: Services, clock, two
) -> None:
    """Lee's reminder went by Telegram when her Discord DMs were closed, and /deliveries showed
    "✅ Lee · 1h · discord: direct messages closed": the platform it failed on, as if sent."""
    here, there = two
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-11-24 12:00 | Trailhead | free | 5")
    await chat.click("ana", "su:1")
    await _ana_on_both(chat, preferred="other")
    there.unreachable.add("ana-elsewhere")
    clock.set(STARTS - timedelta(hours=1))
    assert await ReminderRunner(services).run_due() == 1
    assert len(here.texts_to("ana")) == 1
    log = (await chat.say("maya", "/deliveries 1")).text
    assert "✅ ana · 1h · via test · tried first: other: blocked by the user" in log
    ctx = await chat.context("maya")
    ctx.in_group_chat = True  # everyone's delivery problems are not for a group chat
    shared = await handle_text(ctx, "/deliveries 1")
    assert "Send me /deliveries in a private chat" in shared.text and "ana" not in shared.text

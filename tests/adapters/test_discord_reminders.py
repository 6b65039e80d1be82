"""Reminders through the real discord.py client and the Discord emulator: signed up with the
button, due on the FrozenClock, fired by the ReminderRunner, delivered as a DM whose button
gives the seat to the next person waiting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from core.models import Delivery, DeliveryStatus
from core.scheduler import ReminderRunner
from tests.discord_harness import CHANNEL, DiscordHarness, markdown_of, text_of
from tests.emulators.discord import FLAG_EPHEMERAL
from tests.support import START

pytestmark = pytest.mark.usefixtures("no_errors_logged")

STARTS = START + timedelta(days=3)


async def _ridge(dc: DiscordHarness, *, capacity: int = 1) -> None:
    """Maya's hiking group with one activity three days from now, at a mapped trailhead."""
    maya = dc.add_user(1, "Maya", manager=True)
    await dc.slash(maya, "newgroup", name="Hiking")
    await dc.slash(maya, "newevent", group="hiking")
    created = await dc.submit_modal(
        maya,
        {
            "Title": "Ridge",
            "Date and time (YYYY-MM-DD HH:MM)": "2026-11-24 12:00",
            "Place": "Trailhead, 52.5200, 13.4050",
            "Seats": str(capacity),
        },
    )
    assert "Activity #1 created" in created.text


async def test_sign_up_then_get_the_reminder_by_dm_and_release_the_spot(
    dc: DiscordHarness, clock
) -> None:
    await _ridge(dc)
    ana, ben = dc.add_user(2, "Ana"), dc.add_user(3, "Ben")
    card = (await dc.slash(ana, "event", activity=1)).message
    assert (await dc.click(ana, card, "Sign up"))[-1].content == "You're in!"
    waiting = await dc.click(ben, card, "Sign up")
    assert waiting[-1].content == "It's full: you're #1 on the waitlist."

    clock.set(STARTS - timedelta(hours=1))
    assert await ReminderRunner(dc.services).run_due() == 1
    [reminder] = dc.dms(ana)
    assert "Reminder: Ridge starts in 1 hour" in text_of(reminder)
    assert f"<t:{int(STARTS.timestamp())}:F>" in markdown_of(reminder)  # the reader's own time
    assert "openstreetmap.org/?mlat=52.52000&mlon=13.40500" in markdown_of(reminder)
    assert dc.emu.allowed_mentions_of(reminder) == {"parse": []}
    assert dc.dms(ben) == []  # waitlisted: no reminder

    released = await dc.click(ana, reminder, "Release my spot")
    assert released.callback.type == 7  # the reminder becomes the updated activity card
    assert released[-1].content == "Your sign-up is cancelled."
    [promoted] = dc.dms(ben)
    assert "a seat opened up" in text_of(promoted) and "Ridge" in text_of(promoted)
    going = (await dc.slash(ana, "who", activity=1)).text
    assert "Ben" in going and "Ana" not in going
    again = await dc.click(ana, dc.current(reminder), "Sign up")
    assert again[-1].content == "It's full: you're #1 on the waitlist."


async def test_closed_dms_fail_the_delivery_and_mention_the_person_in_the_home_channel(
    dc: DiscordHarness, clock
) -> None:
    await _ridge(dc, capacity=5)
    assert "now the home of Hiking" in (await dc.slash(1, "bindgroup", group="hiking")).text
    ben = dc.add_user(3, "Ben", dms_open=False)
    ana = dc.add_user(2, "Ana")
    for person in (ben, ana):
        assert (await dc.slash(person, "signup", activity=1)).text.startswith("You're in!")

    clock.set(STARTS - timedelta(hours=1))
    before = {m["id"] for m in dc.emu.messages(CHANNEL)}
    assert await ReminderRunner(dc.services).run_due() == 1  # Ana's; Ben's failed, no crash
    assert dc.dms(ben) == [] and len(dc.dms(ana)) == 1

    [mention] = [
        m
        for m in dc.emu.messages(CHANNEL)
        if m["id"] not in before and not m["flags"] & FLAG_EPHEMERAL
    ]
    assert "Ridge" in text_of(mention) and "can't message you privately" in text_of(mention)
    assert "starts <t:" in text_of(mention) and "(UTC)" not in text_of(mention)  # Ben's time
    # Ben, and only Ben, is pinged: the mention is in the content, allowed_mentions names him.
    assert mention["content"] == f"<@{ben.id}>"
    assert [user["id"] for user in mention["mentions"]] == [str(ben.id)]
    assert mention["mention_everyone"] is False and mention["mention_roles"] == []
    allowed = dc.emu.allowed_mentions_of(mention)
    assert allowed is not None and allowed["parse"] == []
    assert [str(user) for user in allowed["users"]] == [str(ben.id)]

    async with dc.services.db.uow(readonly=True) as uow:
        deliveries = (await uow.session.exec(select(Delivery))).all()
    failed = [d for d in deliveries if d.status == DeliveryStatus.FAILED]
    assert len(failed) == 1 and "direct messages closed" in (failed[0].reason or "")
    assert "mentioned in the group's chat" in (failed[0].reason or "")

"""Discovery through the real discord.py bot and the Discord emulator: a typed location (Discord
has no location sharing), /nearby, dismissing a suggestion in /recommend, and the say-hi
consent flow over DMs (no handle is shown before the other person accepts)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.discord_harness import Answer, DiscordHarness, markdown_of, text_of
from tests.emulators.discord import EmuUser

pytestmark = pytest.mark.usefixtures("no_errors_logged")

WHEN = "Date and time (YYYY-MM-DD HH:MM)"
# the walks' start as Discord shows it, in each reader's own zone (not "07:30 (UTC)")
RIDGE_STARTS = f"<t:{int(datetime(2026, 12, 6, 7, 30, tzinfo=UTC).timestamp())}:F>"


async def new_event(dc: DiscordHarness, user: EmuUser, group: str, title: str, place: str) -> None:
    opened = await dc.slash(user, "newevent", group=group)
    assert opened.callback.type == 9, opened  # MODAL
    fields = {"Title": title, WHEN: "2026-12-06 07:30", "Place": place, "Seats": ""}
    assert "created" in (await dc.submit_modal(user, fields)).text


async def community(dc: DiscordHarness) -> EmuUser:
    """Maya runs Hiking (a walk 1.1 km north of Ana's home), Cycling, and the private Secret
    (a walk 2.2 km north)."""
    maya = dc.add_user(1, "Maya", manager=True)
    await dc.slash(maya, "newgroup", name="Hiking", description="Weekend hikes")
    await new_event(dc, maya, "hiking", "Ridge walk", "Trailhead 52.5300, 13.4050")
    await dc.slash(maya, "newgroup", name="Cycling")
    await dc.slash(maya, "newgroup", name="Secret", private=True)
    await new_event(dc, maya, "secret", "Secret walk", "Hut 52.5400, 13.4050")
    return maya


async def test_typed_location_and_nearby_with_sign_up(dc: DiscordHarness) -> None:
    maya = await community(dc)
    ana = dc.add_user(2, "Ana")
    missing = await dc.slash(ana, "nearby")
    assert "I don't know where you are yet" in missing.text and missing.ephemeral
    assert "Send coordinates" in (await dc.slash(ana, "setlocation", where="at home")).text
    saved = await dc.slash(ana, "setlocation", where="52.52, 13.405")
    assert "Location saved" in saved.text and saved.ephemeral

    listed = await dc.slash(ana, "nearby")
    assert listed.ephemeral
    assert "Popular within 10 km" in listed.text
    assert "Ridge walk" in listed.text and "1.1 km" in listed.text
    assert f"🕒 {RIDGE_STARTS}" in markdown_of(listed.message)  # in Ana's own time
    assert "Secret walk" not in listed.text  # private, and Ana is not a member
    assert "Secret walk" not in (await dc.slash(ana, "nearby", radius_km=200)).text
    signed = await dc.click(ana, listed, "Sign up")
    assert signed[-1].content == "You're in!"

    link = "https://www.google.com/maps/@52.5200,13.4050,15z"
    assert "Location saved" in (await dc.slash(maya, "setlocation", where=link)).text
    own = await dc.slash(maya, "nearby", radius_km=5)
    assert "Popular within 5 km" in own.text
    assert "Ridge walk" in own.text and "Secret walk" in own.text and "2.2 km" in own.text


async def test_recommend_and_dismiss(dc: DiscordHarness) -> None:
    await community(dc)
    ana = dc.add_user(2, "Ana")
    await dc.slash(ana, "join", group="hiking")
    suggested = await dc.slash(ana, "recommend")
    assert suggested.ephemeral
    assert "Cycling" in suggested.text  # Maya, from Hiking, is in it
    assert "Secret" not in suggested.text and "Join Hiking" not in suggested.text
    assert "Ridge walk" in suggested.text
    assert RIDGE_STARTS in markdown_of(suggested.message) and "UTC" not in suggested.text

    dismissed = await dc.click(ana, suggested, "Not for me")  # the first: Cycling
    edit = dismissed[0]
    assert (edit.kind, edit.type) == ("callback", 7)  # the card is edited in place
    now = text_of(dc.current(suggested.message))
    assert "Cycling" not in now and "Ridge walk" in now
    assert dismissed[-1].content == "OK, I won't suggest that again."
    assert "Cycling" not in (await dc.slash(ana, "recommend")).text


def _seen(answers: list[Answer], dc: DiscordHarness, *users: EmuUser) -> str:
    """Everything the people saw: the bot's answers to them and their DMs, with buttons."""
    texts = [answer.text for answer in answers]
    for user in users:
        for message in dc.dms(user):
            texts.append(text_of(message))
            texts += [str(button) for button in dc.emu.buttons(message)]
    for answer in answers:
        for message in answer.messages:
            texts += [str(button) for button in dc.emu.buttons(message)]
    return "\n".join(texts)


async def test_say_hi_over_dms_shares_handles_only_after_accept(dc: DiscordHarness) -> None:
    maya = await community(dc)
    ana = dc.add_user(2, "Ana")
    await dc.slash(ana, "join", group="hiking")
    refused = await dc.slash(ana, "companions")
    assert "/settings discoverable on" in refused.text
    answers = [refused]
    for user in (maya, ana):
        on = await dc.slash(user, "settings", discoverable=True)
        assert "Others can now find you" in on.text
        answers.append(on)

    listed = await dc.slash(ana, "companions")
    answers.append(listed)
    assert listed.ephemeral and "Maya" in listed.text and "Hiking" in listed.text
    said = await dc.click(ana, listed, "Say hi to Maya")
    answers.append(said)
    assert "If they accept" in said.text
    [request] = dc.dms(maya)
    assert "Ana would like to say hi." in text_of(request)
    labels = [label for label, *_ in dc.emu.buttons(request)]
    assert any("Accept" in label for label in labels)
    assert any("Decline" in label for label in labels)
    assert dc.dms(ana) == []
    seen = _seen(answers, dc, maya, ana)
    assert "@ana" not in seen and "@maya" not in seen

    stolen = await dc.forge(ana, request, dc.emu.find_button(request, "Accept"))
    assert "No pending request" in stolen.text
    answers.append(stolen)
    seen = _seen(answers, dc, maya, ana)
    assert "@ana" not in seen and "@maya" not in seen

    accepted = await dc.click(maya, request, "Accept")
    assert "You can reach Ana at @ana (discord)." in text_of(dc.current(request))
    assert "@maya" not in accepted.text
    [told] = dc.dms(ana)
    assert "Maya accepted your hi." in text_of(told)
    assert "You can reach Maya at @maya (discord)." in text_of(told)


async def test_declined_hi_tells_nothing(dc: DiscordHarness) -> None:
    maya = await community(dc)
    ana = dc.add_user(2, "Ana")
    await dc.slash(ana, "join", group="hiking")
    for user in (maya, ana):
        await dc.slash(user, "settings", discoverable=True)
    listed = await dc.slash(ana, "companions")
    await dc.click(ana, listed, "Say hi")
    [request] = dc.dms(maya)
    declined = await dc.click(maya, request, "Decline")
    assert "Declined. Nothing was shared." in declined.text
    assert "@ana" not in text_of(dc.current(request))
    assert dc.dms(ana) == []

"""Discovery through the real aiogram bot and the Telegram emulator: sharing a location, /nearby
with distances and a working Sign up button, private groups hidden, and the say-hi consent flow
(nobody's @username is shown before the other person accepts)."""

from __future__ import annotations

from sqlmodel import select

from core.models import Person
from tests.emulators.telegram import EmuUser
from tests.harness import TelegramHarness

GROUP_CHAT = -100200300


def _plain(messages: list[dict]) -> str:
    return "\n".join(m["plain"] or "" for m in messages)


async def _share_location(tg: TelegramHarness, user: EmuUser, lat: float, lng: float) -> None:
    await tg._handled(tg.emu.send_message(user, location=(lat, lng)))


async def _community(tg: TelegramHarness) -> EmuUser:
    """Maya runs Hiking (a walk 1.1 km north of Ana's home) and the private Secret (a walk
    2.2 km north)."""
    maya = tg.emu.add_user(1, "Maya", "maya_tg")
    await tg.say(maya, "/newgroup Hiking | Weekend hikes | hiking")
    created = await tg.say(
        maya, "/newevent hiking | Ridge walk | 2026-12-06 07:30 | Trailhead 52.5300, 13.4050"
    )
    assert "Activity #1 created" in _plain(created)
    await tg.say(maya, "/newgroup Secret | | | private")
    created = await tg.say(
        maya, "/newevent secret | Secret walk | 2026-12-07 07:30 | Hut 52.5400, 13.4050"
    )
    assert "Activity #2 created" in _plain(created)
    return maya


async def test_setlocation_asks_with_a_location_button_and_a_shared_location_is_saved(
    tg: TelegramHarness,
) -> None:
    ana = tg.emu.add_user(2, "Ana", "ana_tg")
    [asked] = await tg.say(ana, "/setlocation")
    assert "share your location" in asked["plain"]
    [[button]] = asked["reply_markup"]["keyboard"]
    assert button["request_location"] is True and "Share location" in button["text"]

    before = len(tg.emu.messages(ana.id))
    await _share_location(tg, ana, 52.52, 13.405)
    answered = tg.emu.messages(ana.id)[before:]
    assert "Location saved" in _plain(answered)
    assert any(m["reply_markup"] == {"remove_keyboard": True} for m in answered)
    async with tg.services.db.uow(readonly=True) as uow:
        [person] = (
            await uow.session.exec(select(Person).where(Person.display_name == "Ana"))
        ).all()
    assert (person.latitude, person.longitude) == (52.52, 13.405)

    typed = await tg.say(ana, "/setlocation 48.8566, 2.3522")
    assert "Location saved" in _plain(typed)
    assert "Send coordinates" in _plain(await tg.say(ana, "/setlocation over there"))


async def test_nearby_lists_distance_and_signs_up_and_hides_private_groups(
    tg: TelegramHarness,
) -> None:
    maya = await _community(tg)
    ana = tg.emu.add_user(2, "Ana", "ana_tg")
    assert "I don't know where you are yet" in _plain(await tg.say(ana, "/nearby"))
    await _share_location(tg, ana, 52.52, 13.405)

    [card] = await tg.say(ana, "/nearby")
    text = card["plain"]
    assert "Popular within 10 km" in text
    assert "Ridge walk" in text and "1.1 km" in text
    assert "🕒 Sun, 6 Dec 2026, 07:30 (UTC)" in text  # Telegram has no per-reader times
    assert "Secret" not in text  # a private group's activity, and Ana is not a member
    assert "Secret walk" not in _plain(await tg.say(ana, "/nearby 200"))
    answer = await tg.click(ana, card, "Sign up")
    assert answer["text"] == "You're in!"
    assert "You're going" in tg.current(card)["plain"]

    await _share_location(tg, maya, 52.52, 13.405)
    [own] = await tg.say(maya, "/nearby")
    assert "Ridge walk" in own["plain"] and "Secret walk" in own["plain"]  # a member sees it
    assert "2.2 km" in own["plain"]
    assert "Popular within 1 km" in _plain(await tg.say(maya, "/nearby 1"))
    assert "between 1 and 200" in _plain(await tg.say(maya, "/nearby 0"))

    # In a group chat everyone would read the distances from Ana's home: not there.
    tg.emu.add_group_chat(GROUP_CHAT, "Hikers")
    refused = _plain(await tg.say(ana, "/nearby", chat_id=GROUP_CHAT))
    assert "in a private chat" in refused and "km ·" not in refused and "Ridge" not in refused


async def test_say_hi_shares_usernames_only_after_accept(tg: TelegramHarness) -> None:
    maya = await _community(tg)
    ana = tg.emu.add_user(2, "Ana", "ana_tg")
    await tg.say(ana, "/join hiking")
    refused = await tg.say(ana, "/companions")
    assert "/settings discoverable on" in _plain(refused)
    for user in (maya, ana):
        assert "Others can now find you" in _plain(await tg.say(user, "/settings discoverable on"))

    def seen() -> str:
        """Everything either of them was shown: every message, button and toast."""
        texts = []
        for chat in (maya.id, ana.id):
            for message in tg.emu.messages(chat):
                texts.append(message["plain"] or "")
                texts += [label for label, _ in tg.emu.buttons(message)]
        texts += [answer.get("text") or "" for answer in tg.emu.callback_answers]
        return "\n".join(texts)

    [listed] = await tg.say(ana, "/companions")
    assert "Maya" in listed["plain"] and "Hiking" in listed["plain"]
    before = len(tg.emu.messages(maya.id))
    answer = await tg.click(ana, listed, "Say hi to Maya")
    assert "If they accept" in answer["text"]
    [request] = tg.emu.messages(maya.id)[before:]
    assert "Ana would like to say hi." in request["plain"]
    assert [label for label, _ in tg.emu.buttons(request)][:2] == ["✅ Accept", "✖ Decline"]
    assert "@ana_tg" not in seen() and "@maya_tg" not in seen()
    assert "ana_tg" not in seen() and "maya_tg" not in seen()

    # Ana can't accept on Maya's behalf, even with a forged click.
    _, data = tg.emu.find_button(request, "Accept")
    answers = len(tg.emu.callback_answers)
    await tg.push(tg.emu.forge_click(ana, request, data))  # type: ignore[arg-type]
    assert "No pending request" in tg.emu.callback_answers[answers]["text"]
    assert "ana_tg" not in seen() and "maya_tg" not in seen()

    ana_before = len(tg.emu.messages(ana.id))
    accepted = await tg.click(maya, request, "Accept")
    assert accepted["text"] == "Accepted."
    assert "You can reach Ana at @ana_tg (telegram)." in tg.current(request)["plain"]
    [told] = tg.emu.messages(ana.id)[ana_before:]
    assert "Maya accepted your hi." in told["plain"]
    assert "You can reach Maya at @maya_tg (telegram)." in told["plain"]


async def test_declined_hi_shares_nothing(tg: TelegramHarness) -> None:
    maya = await _community(tg)
    ana = tg.emu.add_user(2, "Ana", "ana_tg")
    await tg.say(ana, "/join hiking")
    for user in (maya, ana):
        await tg.say(user, "/settings discoverable on")
    [listed] = await tg.say(ana, "/companions")
    before = len(tg.emu.messages(maya.id))
    await tg.click(ana, listed, "Say hi")
    [request] = tg.emu.messages(maya.id)[before:]
    ana_before = len(tg.emu.messages(ana.id))
    declined = await tg.click(maya, request, "Decline")
    assert declined["text"] == "Declined. Nothing was shared."
    assert tg.emu.messages(ana.id)[ana_before:] == []
    everything = _plain(tg.emu.messages(ana.id)) + _plain(tg.emu.messages(maya.id))
    assert "_tg" not in everything

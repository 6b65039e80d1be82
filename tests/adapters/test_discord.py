"""The Discord adapter end to end: the real discord.py CommunityBot over HTTP and WebSocket
against the local Discord emulator, with a real SQLite database behind the core."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest
from icalendar import Calendar

import adapters.discord.interactions as interactions
from adapters.discord.render import render
from adapters.discord.scheduled import ScheduledEvents
from core.cards import SLOT, Card, Style, moment, slotted
from core.chat import COMMANDS
from core.chat.registry import commands_on
from core.i18n import Translator, set_default_locale
from core.render.text import render_card
from core.views import format_time
from tests.discord_harness import (
    CHANNEL,
    GUILD,
    Answer,
    DiscordHarness,
    errors_logged,
    markdown_of,
    text_of,
)
from tests.emulators.discord import BOT_ID, FLAG_EPHEMERAL, EmuUser
from tests.support import Chat

pytestmark = pytest.mark.usefixtures("no_errors_logged")

CJK = re.compile(r"[\u4e00-\u9fff]")
WHEN = "Date and time (YYYY-MM-DD HH:MM)"


async def new_event(
    dc: DiscordHarness,
    user: EmuUser,
    title: str = "Ridge walk",
    *,
    when: str = "2026-12-06 07:30",
    seats: int | str = "",
    group: str = "hiking",
) -> Answer:
    """/newevent opens the modal; the person fills it in and submits it."""
    opened = await dc.slash(user, "newevent", group=group)
    assert opened.callback.type == 9, opened  # MODAL
    fields = {"Title": title, WHEN: when, "Place": "Trailhead", "Seats": str(seats)}
    return await dc.submit_modal(user, fields)


async def community(dc: DiscordHarness, capacity: int = 2) -> EmuUser:
    """Maya (she manages the server) runs a hiking group with one activity."""
    maya = dc.add_user(1, "Maya", manager=True)
    created = await dc.slash(maya, "newgroup", name="Hiking", description="Weekend hikes")
    assert "Hiking" in created.text
    assert "Activity #1 created" in (await new_event(dc, maya, seats=capacity)).text
    return maya


def bot_messages(dc: DiscordHarness, *channels: int) -> list[dict]:
    return [
        message
        for channel in channels
        for message in dc.emu.messages(channel)
        if message["author"]["id"] == str(BOT_ID)
    ]


# --------------------------------------------------------------------------------------------
# Connecting, commands, autocomplete


async def test_ready_and_guild_create_and_commands_synced_to_the_server(
    dc: DiscordHarness,
) -> None:
    bot = dc.bot
    assert bot is not None and bot.is_ready()
    guild = bot.get_guild(GUILD)
    assert guild is not None and guild.name == "Community"
    assert guild.get_channel(CHANNEL) is not None
    assert bot.user is not None and bot.user.id == BOT_ID
    sent = [f.t for f in dc.emu.gateway_log if f.direction == "out" and f.op == 0]
    assert sent[:2] == ["READY", "GUILD_CREATE"]
    assert dc.emu.identifies[0]["token"] and not dc.emu.identifies[0]["intents"] & (1 << 15)

    names = {command["name"] for command in dc.emu.commands(GUILD)}
    assert {"join", "newevent", "event", "post", "bindgroup", "replies", "signup"} <= names
    assert dc.emu.commands() == []  # guild_ids: synced to the server, nothing global
    assert "discord" in dc.services.notifiers


async def test_what_help_lists_on_discord_is_what_discord_offers(dc: DiscordHarness) -> None:
    """Core's commands and the slash commands cannot drift apart: each core command is a slash
    command unless it has no place on Discord (then /help there leaves it out too), and each
    setting /settings names is an option of it (/editseries and /settings platform were listed
    by /help and missing)."""
    synced = {c["name"]: c for c in dc.emu.commands(GUILD)}
    offered = set(commands_on("discord"))
    assert offered <= set(synced), sorted(offered - set(synced))
    assert set(COMMANDS) - offered == {"start", "cancel"}
    assert not (set(COMMANDS) - offered) & set(synced)
    assert set(synced) - set(COMMANDS) == {"bindgroup", "unbindgroup"}  # Discord's own

    helped = await dc.slash(dc.add_user(2, "Ana"), "help")
    assert set(re.findall(r"^`?/(\w+)", helped.text, re.M)) == offered

    settings = {o["name"] for o in synced["settings"]["options"]}
    assert set(re.findall(r"\[(\w+) ", COMMANDS["settings"].usage)) <= settings
    assert "platform" in settings


async def test_the_commands_discord_lacked_work(dc: DiscordHarness) -> None:
    maya = await community(dc, capacity=5)
    both = await dc.slash(maya, "repeat", activity=1, how="weekly", times=3, until="2027-01-01")
    assert "not both" in both.text  # the date was dropped unsaid
    await dc.slash(maya, "repeat", activity=1, how="weekly", times=3)
    edited = await dc.slash(maya, "editseries", activity=1, field="place", value="Riverside")
    assert "coming occurrences updated" in edited.text and edited.ephemeral
    assert "Riverside" in (await dc.slash(maya, "event", activity=2)).text
    series_fields = {
        c["value"]
        for o in dc.emu.commands(GUILD)
        if o["name"] == "editseries"
        for p in o["options"]
        if p["name"] == "field"
        for c in p["choices"]
    }
    assert "place" in series_fields and "time" not in series_fields  # a series keeps its days

    ana = dc.add_user(2, "Ana")
    assert "Marked as maybe" in (await dc.slash(ana, "maybe", activity=1)).text
    zone = await dc.slash(maya, "grouptimezone", group="hiking", timezone="Asia/Shanghai")
    assert "New activities of Hiking are now in Asia/Shanghai" in zone.text
    calendar = await dc.slash(ana, "calendar")
    assert "Calendar links are not switched on here" in calendar.text and calendar.ephemeral
    platform = await dc.slash(ana, "settings", platform="discord")
    assert "Messages reach you on Discord first." in platform.text
    assert (
        "Messages reach you where you used me last."
        in (await dc.slash(ana, "settings", platform="auto")).text
    )


async def test_numbers_out_of_range_are_refused_by_discord(dc: DiscordHarness) -> None:
    """Ids, pages and counts carry their bounds: Discord's client refuses "-5" before sending
    (it was sent, and answered "Which activity? Give its number")."""
    maya = await community(dc)
    for command, options in (
        ("event", {"activity": -5}),
        ("signup", {"activity": 0}),
        ("event", {"activity": 2**31}),
        ("repeat", {"activity": 1, "how": "weekly", "times": -3}),
        ("repeat", {"activity": 1, "how": "weekly", "times": 1000}),
        ("posts", {"group": "hiking", "page": 0}),
        ("replies", {"post": -1}),
        ("deletereply", {"reply": 0}),
    ):
        with pytest.raises(ValueError, match="outside"):
            await dc.slash(maya, command, **options)
    assert (
        "now repeats every week, 2 times in all"
        in (await dc.slash(maya, "repeat", activity=1, how="weekly", times=2)).text
    )


async def test_join_with_group_name_autocomplete(dc: DiscordHarness) -> None:
    maya = dc.add_user(1, "Maya")
    await dc.slash(maya, "newgroup", name="Hiking", description="Weekend hikes")
    await dc.slash(maya, "newgroup", name="Board games")
    ana = dc.add_user(2, "Ana")

    choices = await dc.autocomplete(ana, "join", group="hik")
    assert [(c["name"], c["value"]) for c in choices] == [
        ("Hiking", "#1")
    ]  # its number: an old slug could name another group
    assert {c["name"] for c in await dc.autocomplete(ana, "join", group="")} == {
        "Hiking",
        "Board games",
    }

    joined = await dc.slash(ana, "join", group=choices[0]["value"])
    assert joined.callback.type == 4 and joined.ephemeral
    assert "Welcome to Hiking" in joined.text
    assert "Hiking" in (await dc.slash(ana, "mygroups")).text


# --------------------------------------------------------------------------------------------
# Activities: buttons, waitlist, the modal


async def test_sign_up_click_edits_the_card_in_place_and_toasts(dc: DiscordHarness) -> None:
    await community(dc)
    ana = dc.add_user(2, "Ana")
    choices = await dc.autocomplete(ana, "event", activity="ridge")
    assert [(c["name"], c["value"]) for c in choices] == [("#1 Ridge walk", 1)]
    shown = await dc.slash(ana, "event", activity=choices[0]["value"])
    card = shown.message
    assert not card["flags"] & FLAG_EPHEMERAL  # /event posts the card in the channel
    assert "Ridge walk" in text_of(card) and "0/2 going" in text_of(card)

    clicked = await dc.click(ana, card, "Sign up")
    edit, toast = clicked
    assert (edit.kind, edit.type) == ("callback", 7)  # UPDATE_MESSAGE, with the new embed
    assert "1/2 going" in markdown_of(edit.data)
    assert (toast.kind, toast.content, toast.ephemeral) == ("followup", "You're in!", True)
    now = dc.current(card)
    assert "1/2 going" in text_of(now) and now["edited_timestamp"] is not None
    assert dc.emu.buttons(now) == dc.emu.buttons(card)  # the buttons stay

    again = await dc.click(ana, now, "Sign up")
    assert again[-1].content == "Already signed up."


async def test_a_request_another_admin_decided_is_redrawn_where_it_was_tapped(
    dc: DiscordHarness,
) -> None:
    """Tom declined Li; Maya's DM of the request kept its buttons, and her tap only said so.
    Her DM is now edited: who decided what, and no buttons. /requests needs no group."""
    maya, tom, li = (dc.add_user(n, name) for n, name in ((1, "Maya"), (2, "Tom"), (3, "Li")))
    await dc.slash(maya, "newgroup", name="Secret", private=True)
    await dc.slash(tom, "join", group="secret")
    await dc.click(maya, dc.dms(maya)[-1], "Approve")
    await dc.slash(maya, "promote", group="secret", person=tom)
    await dc.slash(li, "join", group="secret")
    [mayas] = [m for m in dc.dms(maya) if text_of(m) == "Li asks to join Secret."]
    [toms] = [m for m in dc.dms(tom) if text_of(m) == "Li asks to join Secret."]
    listed = await dc.slash(maya, "requests")
    assert "Secret · 1 waiting" in [label for label, _ in dc.emu.buttons(listed.message)]

    await dc.click(tom, toms, "Decline")
    late = await dc.click(maya, mayas, "Approve")
    assert "Li's request was already declined." in late.text
    now = dc.current(mayas)
    assert text_of(now) == "Tom declined Li." and not dc.emu.buttons(now)


async def test_waitlist_then_a_cancellation_promotes_the_next_with_a_dm(
    dc: DiscordHarness,
) -> None:
    await community(dc, capacity=1)
    ana, ben = dc.add_user(2, "Ana"), dc.add_user(3, "Ben")
    ana_card = (await dc.slash(ana, "event", activity=1)).message
    await dc.click(ana, ana_card, "Sign up")
    ben_card = (await dc.slash(ben, "event", activity=1)).message
    waiting = await dc.click(ben, ben_card, "Sign up")
    assert waiting[-1].content == "It's full: you're #1 on the waitlist."
    assert "1 on the waitlist" in text_of(dc.current(ben_card))
    assert dc.dms(ben) == []

    cancelled = await dc.click(ana, ana_card, "Cancel")
    assert cancelled[-1].content == "Your sign-up is cancelled."
    [promoted] = dc.dms(ben)
    assert "a seat opened up" in text_of(promoted) and "Ridge walk" in text_of(promoted)
    assert dc.emu.allowed_mentions_of(promoted) == {"parse": []}
    # The DM's buttons work like any card's.
    who = await dc.click(ben, promoted, "Who's going")
    assert "Ben" in who.text and who.ephemeral


async def test_roster_news_shows_each_readers_own_time(dc: DiscordHarness) -> None:
    """A moved or cancelled activity's DM shows its time as Discord's timestamp, in each
    reader's own zone, as its card does: it said "07:30 (UTC)" to everyone. A series' news
    too, each date its own."""
    maya = await community(dc, capacity=5)
    ana, li = dc.add_user(2, "Ana"), dc.add_user(5, "Li", locale="zh-CN")
    card = (await dc.slash(ana, "event", activity=1)).message
    await dc.click(ana, card, "Sign up")
    await dc.click(li, card, "Sign up")

    await dc.slash(maya, "editevent", activity=1, field="time", value="2026-12-05 09:00")
    moved = int(datetime(2026, 12, 5, 9, 0, tzinfo=UTC).timestamp())
    for reader in (ana, li):
        [news] = dc.dms(reader)
        assert f"<t:{moved}:F>" in markdown_of(news) and "UTC" not in markdown_of(news)
    assert text_of(dc.dms(ana)[0]).startswith("Activity changed: Ridge walk")

    await dc.slash(maya, "cancelevent", activity=1)
    cancelled = dc.dms(ana)[-1]
    assert text_of(cancelled).startswith("Cancelled: Ridge walk")
    assert f"<t:{moved}:F>" in markdown_of(cancelled) and "UTC" not in markdown_of(cancelled)

    await new_event(dc, maya, "Night run", when="2026-12-07 19:00")
    await dc.slash(maya, "repeat", activity=2, how="weekly", times=2)
    await dc.click(ana, (await dc.slash(ana, "event", activity=2)).message, "Every time")
    await dc.slash(maya, "cancelseries", activity=2)
    series = markdown_of(dc.dms(ana)[-1])
    assert series.count("<t:") == 4 and "UTC" not in series  # two dates, :F and :R each


def test_a_time_within_a_sentence_is_each_readers_own_on_discord() -> None:
    """A translated sentence keeps a time as a moment where it stands (an offer's deadline):
    Discord's timestamp there, the words with the zone in plain text."""
    t, until = Translator("en"), datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    sentence = t("It's held for you until {time}: accept it or pass it on.", time=SLOT)
    spans = slotted(sentence, moment(format_time(until, "UTC", t), until), Style.ITALIC)
    stamp = int(until.timestamp())
    [message] = render(Card().add(*spans))
    assert message.embeds[0].description == (
        f"*It's held for you until* <t:{stamp}:F> (<t:{stamp}:R>)*: accept it or pass it on.*"
    )
    assert render_card(Card().add(*spans)) == (
        "It's held for you until Sat, 5 Dec 2026, 09:00 (UTC): accept it or pass it on."
    )


async def test_newevent_modal_creates_an_activity(dc: DiscordHarness) -> None:
    maya = dc.add_user(1, "Maya")
    await dc.slash(maya, "newgroup", name="Hiking")
    opened = await dc.slash(maya, "newevent", group="hiking")
    modal = opened.callback
    assert (modal.type, modal.data["title"]) == (9, "New activity")
    created = await dc.submit_modal(
        maya,
        {"Title": "Night walk", WHEN: "2026-12-06 19:00", "Place": "Old town", "Fee": "5 EUR"},
    )
    confirmation, card = created[0], created[-1]
    assert confirmation.ephemeral and "Activity #1 created" in markdown_of(confirmation.data)
    # the card is for the whole channel (issue #12: it was visible only to its creator)
    assert not card.ephemeral
    assert "Night walk" in created.text and "5 EUR" in created.text
    assert "<t:" in markdown_of(card.data)
    assert "Night walk" in (await dc.slash(maya, "events")).text
    ana = dc.add_user(2, "Ana")
    signed = await dc.click(ana, created.messages[-1], "Sign up")  # from the channel card
    assert "You're in!" in signed.text
    assert "1 going" in text_of(dc.current(created.messages[-1]))


async def test_a_form_opened_and_never_sent_is_closed_with_the_client(dc: DiscordHarness) -> None:
    """discord.py keeps an open modal's 15-minute timeout running: closing the client left it
    behind (the harness failed with "tasks left running"). The bot stops its open forms when it
    closes, so a person may open one and walk away, across a restart too."""
    maya = dc.add_user(1, "Maya")
    await dc.slash(maya, "newgroup", name="Hiking")
    assert (await dc.slash(maya, "newevent", group="hiking")).callback.type == 9
    await dc.restart()
    assert (await dc.slash(maya, "newevent", group="hiking")).callback.type == 9
    assert "Activity #1 created" in (await new_event(dc, maya)).text  # a new one still works
    assert (await dc.slash(maya, "newevent", group="hiking")).callback.type == 9


async def test_newevent_for_an_unknown_group_says_so_before_the_form(
    dc: DiscordHarness,
) -> None:
    answer = await dc.slash(dc.add_user(1, "Maya"), "newevent", group="nope")
    assert answer.callback.type == 4 and answer.ephemeral  # a message, not the modal
    assert "No group called “nope”" in answer.text


async def test_newevent_says_who_may_create_before_the_form(dc: DiscordHarness) -> None:
    """The form opened for anyone and refused on submit ("Join Hiking first"), after it was
    filled in: the core's rule is checked before it opens."""
    maya = dc.add_user(1, "Maya")
    await dc.slash(maya, "newgroup", name="Hiking")
    ben = dc.add_user(3, "Ben")
    refused = await dc.slash(ben, "newevent", group="hiking")
    assert refused.callback.type == 4 and refused.ephemeral  # a message, not the modal
    assert "Join Hiking first (/join hiking)." in refused.text

    await dc.slash(ben, "join", group="hiking")  # a member, and members may not create
    refused = await dc.slash(ben, "newevent", group="hiking")
    assert refused.callback.type == 4 and refused.ephemeral
    assert "Only admins of Hiking can create activities there." in refused.text

    await dc.slash(maya, "memberevents", group="hiking", allowed="on")
    created = await new_event(dc, ben, "Ben's walk")
    assert "Activity #1 created" in created.text


async def test_a_bad_date_in_the_modal_gets_the_same_words_as_everywhere(
    dc: DiscordHarness,
) -> None:
    maya = dc.add_user(1, "Maya")
    await dc.slash(maya, "newgroup", name="Hiking")
    await dc.slash(maya, "newevent", group="hiking")
    refused = await dc.submit_modal(
        maya, {"Title": "Night walk", WHEN: "tomorrow-ish", "Place": "Old town"}
    )
    console = await Chat(dc.services).say(
        "Maya", "/newevent hiking | Night walk | tomorrow-ish | X"
    )
    assert "I can't read the time “tomorrow-ish”. Use YYYY-MM-DD HH:MM" in console.text
    assert refused.text.strip() == console.text.strip()
    assert refused.ephemeral
    assert "No upcoming activities" in (await dc.slash(maya, "events")).text


async def test_a_card_posted_before_a_restart_still_works_after_it(dc: DiscordHarness) -> None:
    await community(dc)
    ana = dc.add_user(2, "Ana")
    card = (await dc.slash(ana, "event", activity=1)).message
    identifies = len(dc.emu.identifies)

    await dc.restart()
    assert len(dc.emu.identifies) == identifies + 1  # a new client, a new session

    clicked = await dc.click(ana, card, "Sign up")
    assert clicked.callback.type == 7
    assert clicked[-1].content == "You're in!"
    assert "1/2 going" in text_of(dc.current(card))


# --------------------------------------------------------------------------------------------
# User text: mentions, markdown, length


async def test_everyone_in_user_text_pings_nobody(dc: DiscordHarness) -> None:
    maya = dc.add_user(1, "Maya", manager=True)
    await dc.slash(maya, "newgroup", name="Hiking")
    assert "now the home of Hiking" in (await dc.slash(maya, "bindgroup", group="hiking")).text
    loud = f"@everyone @here free pizza <@2> <@&{GUILD}>"
    await dc.slash(maya, "post", group="hiking", text=loud)
    await new_event(dc, maya, "@everyone party")
    ana = dc.add_user(2, "Ana")
    await dc.slash(ana, "event", activity=1)

    messages = bot_messages(dc, CHANNEL)
    assert len(messages) >= 4  # two announcements and the answers
    texts = "\n".join(text_of(m) for m in messages)
    assert "@everyone @here free pizza <@2>" in texts and "@everyone party" in texts
    for message in messages:
        assert dc.emu.allowed_mentions_of(message) == {"parse": []}, text_of(message)
        assert message["mention_everyone"] is False
        assert message["mentions"] == [] and message["mention_roles"] == []


async def test_markdown_in_user_text_shows_as_written(dc: DiscordHarness) -> None:
    maya = dc.add_user(1, "Maya")
    await dc.slash(maya, "newgroup", name="Hiking")
    title = "**bold** _x_ <@1> `code`"
    await new_event(dc, maya, title)
    card = (await dc.slash(maya, "event", activity=1)).message
    raw = markdown_of(card)
    assert r"\*\*bold\*\* \_x\_ \<@1> \`code\`" in raw  # escaped, inside the bold title
    assert title in text_of(card)


async def test_a_long_post_is_split_within_embed_limits(dc: DiscordHarness) -> None:
    maya = dc.add_user(1, "Maya")
    await dc.slash(maya, "newgroup", name="Hiking")
    # 4000 characters (the most a post takes) whose markdown escapes double its length.
    body = ("*snow* _ice_ " * 400)[:4000].strip()
    assert "Posted." in (await dc.slash(maya, "post", group="hiking", text=body)).text
    for n in range(3):
        await dc.slash(maya, "reply", post=1, text=f"reply {n} " + "~|" * 900)
    answer = await dc.slash(maya, "replies", post=1)

    refused = [call for call in dc.emu.calls if not call.ok]
    assert refused == [], [str(call) for call in refused]
    messages = answer.messages
    embeds = [embed for message in messages for embed in message["embeds"]]
    assert len(embeds) >= 3
    assert all(len(embed["description"]) <= 4096 for embed in embeds)
    assert all(sum(len(e["description"]) for e in m["embeds"]) <= 6000 for m in messages)
    shown = " ".join(" ".join(text_of(m) for m in messages).split())
    assert body in shown  # all of it, in order
    assert "reply 2 " + "~|" * 900 in shown
    assert dc.emu.buttons(messages[-1])  # the buttons come with the last message


async def test_pipes_in_typed_text_are_kept(dc: DiscordHarness) -> None:
    """Core splits a command's target from its text at the first "|"; the cogs put one there,
    so a "|" inside the text stays text."""
    maya = await community(dc)
    await dc.slash(maya, "post", group="hiking", text="Boots | poles | water")
    assert "Boots | poles | water" in (await dc.slash(maya, "replies", post=1)).text
    replied = await dc.slash(maya, "reply", post=1, text="Snacks | maps")
    assert "Maya: Snacks | maps" in replied.text
    edited = await dc.slash(maya, "editevent", activity=1, field="description", value="Bring A | B")
    assert "Bring A | B" in (await dc.slash(maya, "event", activity=1)).text, edited.text


# --------------------------------------------------------------------------------------------
# Language


async def test_chinese_speakers_get_chinese_and_commands_are_localized(
    dc: DiscordHarness,
) -> None:
    maya = await community(dc)
    li = dc.add_user(5, "Li", locale="zh-CN")
    assert CJK.search((await dc.slash(li, "help")).text)
    card = (await dc.slash(li, "event", activity=1, dm=True)).message  # their own copy
    labels = [label for label, _ in dc.emu.buttons(card)]
    assert labels and all(CJK.search(label or "") for label in labels), labels
    clicked = await dc.click(li, card, labels[0])
    assert CJK.search(clicked[-1].content or ""), clicked[-1].content
    refused = await dc.slash(li, "newevent", group="hiking")  # not a member: no form
    assert refused.callback.type == 4 and CJK.search(refused.text), refused.text
    await dc.slash(li, "join", group="hiking")
    await dc.slash(maya, "memberevents", group="hiking", allowed="on")
    opened = await dc.slash(li, "newevent", group="hiking")
    assert CJK.search(opened.callback.data["title"])
    submitted = await dc.submit_modal(li, ["x", "2026-12-06 07:30", "y"])
    assert CJK.search(submitted.text), submitted.text  # created, or refused, in Chinese

    commands = {c["name"]: c for c in dc.emu.commands(GUILD)}
    for name in ("join", "events", "post", "bindgroup"):
        localized = (commands[name].get("description_localizations") or {}).get("zh-CN")
        assert localized and CJK.search(localized), (name, commands[name])
    assert not CJK.search(commands["join"]["description"])  # English by default
    # every option of every command has a Chinese name too (Discord's rules: one lowercase word)
    for command in commands.values():
        for option in command.get("options") or []:
            zh = (option.get("name_localizations") or {}).get("zh-CN")
            assert zh and CJK.search(zh) and " " not in zh, (command["name"], option)
    settings = {o["name"]: o for o in commands["settings"]["options"]}
    assert settings["name"]["name_localizations"]["zh-CN"] == "名字"


async def test_a_shared_card_stays_in_the_community_language_whoever_clicks(
    dc: DiscordHarness,
) -> None:
    """A card the whole channel shares is drawn in the community's language (DEFAULT_LOCALE)
    when posted and when a click edits it, and its copy is recorded so, so redraws keep it:
    a Chinese speaker's click turned an English card Chinese for everyone, for good. What the
    clicker is told, and their own copies, stay in their language."""
    maya = dc.add_user(1, "Maya", manager=True)
    await dc.slash(maya, "newgroup", name="Hiking")
    await dc.slash(maya, "bindgroup", group="hiking")
    li = dc.add_user(5, "Li", locale="zh-CN")
    await dc.slash(li, "join", group="hiking")
    await dc.slash(maya, "promote", group="hiking", person=li)

    await dc.slash(li, "newevent", group="hiking")  # made by Li, in the home channel
    created = await dc.submit_modal(li, ["Ridge walk", "2026-12-06 07:30", "Trailhead", "", "3"])
    confirmation, card = created[0], created.messages[-1]
    assert confirmation.ephemeral and CJK.search(markdown_of(confirmation.data))
    assert not card["flags"] & FLAG_EPHEMERAL
    assert "Ridge walk" in text_of(card) and not CJK.search(text_of(card)), text_of(card)

    clicked = await dc.click(li, card, "Sign up")
    assert clicked.callback.type == 7
    assert not CJK.search(markdown_of(clicked.callback.data))
    assert CJK.search(clicked[-1].content or "") and clicked[-1].ephemeral  # Li's answer
    now = dc.current(card)
    assert "1/3 going" in text_of(now) and not CJK.search(text_of(now))
    assert not any(CJK.search(label or "") for label, _ in dc.emu.buttons(now))

    await dc.slash(maya, "editevent", activity=1, field="place", value="Old bridge")
    now = dc.current(card)  # redrawn by the card refresher, in the language recorded
    assert "Old bridge" in text_of(now) and not CJK.search(text_of(now)), text_of(now)

    mine = (await dc.slash(li, "event", activity=1, dm=True)).message  # Li's own: Chinese
    assert CJK.search(text_of(mine))
    await dc.slash(maya, "cancelevent", activity=1)
    assert CJK.search(text_of(dc.current(mine)))

    await dc.slash(maya, "post", group="hiking", text="Trail is dry")
    [post] = [
        m
        for m in dc.emu.messages(CHANNEL)
        if "Trail is dry" in text_of(m) and not m["flags"] & FLAG_EPHEMERAL
    ]
    liked = await dc.click(li, post, "♡")
    assert liked.callback.type == 7 and CJK.search(liked[-1].content or "")
    assert "1" in text_of(dc.current(post)) and not CJK.search(text_of(dc.current(post)))
    await dc.slash(maya, "reply", post=1, text="Thanks")
    assert not CJK.search(text_of(dc.current(post)))


async def test_a_community_in_chinese_gets_shared_cards_in_chinese(
    dc: DiscordHarness,
) -> None:
    """The community's language is DEFAULT_LOCALE, not English: an English speaker's click
    leaves a Chinese community's card Chinese."""
    set_default_locale("zh")  # DEFAULT_LOCALE=zh, as bots.cli sets it at start
    try:
        maya = await community(dc)
        ana = dc.add_user(2, "Ana")
        card = (await dc.slash(ana, "event", activity=1)).message
        assert CJK.search(text_of(card))
        clicked = await dc.click(ana, card, "报名")
        assert CJK.search(markdown_of(clicked.callback.data))
        assert clicked[-1].content == "You're in!"
        await dc.slash(maya, "editevent", activity=1, field="place", value="Old bridge")
        current = text_of(dc.current(card))
        assert "Old bridge" in current and CJK.search(current)
    finally:
        set_default_locale("en")


async def test_settings_name_on_discord(dc: DiscordHarness) -> None:
    ana = dc.add_user(2, "Ana")
    assert "Robin" in (await dc.slash(ana, "settings", name="Robin")).text
    assert "Robin" in (await dc.slash(ana, "settings")).text  # kept over the Discord name


# --------------------------------------------------------------------------------------------
# Forged clicks and permissions


async def test_forged_custom_ids_change_nothing_and_are_answered(dc: DiscordHarness) -> None:
    maya = await community(dc)
    ana = dc.add_user(2, "Ana")
    card = (await dc.slash(ana, "event", activity=1)).message
    await dc.slash(maya, "post", group="hiking", text="Trail report")

    async def forged(custom_id: str) -> Answer:
        answer = await dc.forge(ana, card, custom_id)
        assert answer and answer.ephemeral, (custom_id, answer)
        assert answer.callback.type == 4, answer  # a new ephemeral message, no edit
        return answer

    assert "No activity #999. Try /events" in (await forged("cl:su:999")).text
    assert "Only admins of Hiking can do that." in (await forged("cl:ap:1:1")).text
    refused = await dc.forge(ana, card, "cl:cx:1")  # a card's refused tap redraws that card
    assert refused.callback.type == 7 and "0/2 going" in markdown_of(refused.callback.data)
    assert refused[-1].ephemeral and "You are not signed up" in (refused[-1].content or "")
    assert "Only admins of Hiking can do that." in (await forged("cl:pn:1")).text
    assert "Only the author or a group admin" in (await forged("cl:dp:1")).text
    assert (await forged("cl:zz:1")).text == "That button no longer works."
    assert (await forged("cl:su:1:2:3")).text == "That button no longer works."
    assert (await forged("garbage")).text == "That button no longer works."
    assert "0/2 going" in text_of(dc.current(card))
    assert "Trail report" in (await dc.slash(ana, "posts", group="hiking")).text


async def test_acting_on_a_report_says_it_once(dc: DiscordHarness) -> None:
    """The report's message becomes "Post deleted; report #1 closed."; a private follow-up
    repeated exactly that line. It follows only when it says something the edit does not."""
    maya = dc.add_user(1, "Maya", manager=True)
    await dc.slash(maya, "newgroup", name="Hiking")
    await dc.slash(maya, "bindgroup", group="hiking")
    ana, ben = dc.add_user(2, "Ana"), dc.add_user(3, "Ben")
    for person in (ana, ben):
        await dc.slash(person, "join", group="hiking")
    await dc.slash(ana, "post", group="hiking", text="buy cheap pills")
    await dc.slash(ana, "post", group="hiking", text="buy cheap watches")
    posted = [
        m
        for m in dc.emu.messages(CHANNEL)
        if "buy cheap" in text_of(m) and not m["flags"] & FLAG_EPHEMERAL
    ]
    for post in posted:
        reported = await dc.click(ben, post, "Report")
        assert reported.callback.type == 4 or reported[-1].ephemeral

    listed = await dc.slash(maya, "reports")
    pills = next(m for m in listed.messages if "pills" in text_of(m))
    deleted = await dc.click(maya, pills, "Delete")
    assert [(r.kind, r.type) for r in deleted] == [("callback", 7)], deleted
    assert text_of(dc.current(pills)) == "Post deleted; report #1 closed."
    watches = next(m for m in listed.messages if "watches" in text_of(m))
    dismissed = await dc.click(maya, watches, "Dismiss")
    assert [(r.kind, r.type) for r in dismissed] == [("callback", 7)], dismissed
    assert text_of(dc.current(watches)) == "Report #2 dismissed."


async def test_bindgroup_needs_manage_server(dc: DiscordHarness) -> None:
    maya = dc.add_user(1, "Maya", manager=True)
    await dc.slash(maya, "newgroup", name="Hiking")
    zoe = dc.add_user(9, "Zoe")
    refused = await dc.slash(zoe, "bindgroup", group="hiking")
    assert "Only people who manage this server can do that" in refused.text
    assert refused.ephemeral
    await dc.slash(maya, "post", group="hiking", text="Not announced: no home yet")
    assert not [m for m in bot_messages(dc, CHANNEL) if not m["flags"] & FLAG_EPHEMERAL]

    bound = await dc.slash(maya, "bindgroup", group="hiking")
    assert "now the home of Hiking" in bound.text
    before = {m["id"] for m in dc.emu.messages(CHANNEL)}
    await new_event(dc, maya, "Ridge")
    [announced] = [
        m
        for m in dc.emu.messages(CHANNEL)
        if m["id"] not in before and not m["flags"] & FLAG_EPHEMERAL
    ]
    assert "Ridge" in text_of(announced)
    clicked = await dc.click(zoe, announced, "Sign up")
    assert clicked[-1].content == "You're in!"
    assert "1/" in text_of(dc.current(announced)) or "1 going" in text_of(dc.current(announced))


async def test_admin_commands_take_a_discord_user(dc: DiscordHarness) -> None:
    maya = await community(dc)
    ana = dc.add_user(2, "Ana")
    await dc.slash(ana, "join", group="hiking")
    promoted = await dc.slash(maya, "promote", group="hiking", person=ana)
    assert "Ana is now an admin of Hiking." in promoted.text
    refused = await dc.slash(ana, "demote", group="hiking", person=maya)
    assert "⚠️" in refused.text and refused.ephemeral  # only the owner may


async def test_closed_dms_make_a_promotion_fail_quietly(
    dc: DiscordHarness, caplog: pytest.LogCaptureFixture
) -> None:
    await community(dc, capacity=1)
    ana, ben = dc.add_user(2, "Ana"), dc.add_user(3, "Ben", dms_open=False)
    card = (await dc.slash(ana, "event", activity=1)).message
    await dc.click(ana, card, "Sign up")
    await dc.click(ben, card, "Sign up")

    cancelled = await dc.click(ana, card, "Cancel")
    assert cancelled[-1].content == "Your sign-up is cancelled."
    assert dc.dms(ben) == []
    refused = [c for c in dc.emu.calls if c.status == 403]
    assert refused and refused[0].error["code"] == 50007
    assert any("direct messages closed" in r.getMessage() for r in caplog.records)
    assert "Ben" in (await dc.slash(ana, "who", activity=1)).text  # Ben got the seat


# --------------------------------------------------------------------------------------------
# Slow work


async def test_slow_click_is_deferred_then_answered(
    dc: DiscordHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await community(dc)
    ana = dc.add_user(2, "Ana")
    card = (await dc.slash(ana, "event", activity=1)).message
    gate = asyncio.Event()
    real = interactions.handle_action

    async def slow(ctx, payload):
        await gate.wait()
        return await real(ctx, payload)

    monkeypatch.setattr(interactions, "DEFER_AFTER", 0.01)
    monkeypatch.setattr(interactions, "handle_action", slow)
    since = len(dc.emu.responses)
    click = await dc.emu.click(ana, card, dc.emu.find_button(card, "Sign up"))
    deferred = await dc.emu.wait_for_response(click, since=since)
    assert (deferred.kind, deferred.type) == ("callback", 6)  # DEFERRED_UPDATE_MESSAGE
    gate.set()
    answer = await dc.handled(click)

    assert [(r.kind, r.type) for r in answer] == [
        ("callback", 6),
        ("edit", None),
        ("followup", None),
    ]
    assert "1/2 going" in text_of(dc.current(card))
    assert answer[-1].content == "You're in!" and answer[-1].ephemeral


async def test_slow_command_is_deferred_then_answered(
    dc: DiscordHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await community(dc)
    gate = asyncio.Event()
    real = interactions.handle_text

    async def slow(ctx, text):
        await gate.wait()
        return await real(ctx, text)

    monkeypatch.setattr(interactions, "DEFER_AFTER", 0.01)
    monkeypatch.setattr(interactions, "handle_text", slow)
    since = len(dc.emu.responses)
    command = await dc.emu.slash(1, GUILD, CHANNEL, "events", {})
    deferred = await dc.emu.wait_for_response(command, since=since)
    assert (deferred.type, deferred.ephemeral) == (5, True)  # "thinking…", only for Maya
    gate.set()
    answer = await dc.handled(command)
    assert [r.kind for r in answer][:2] == ["callback", "followup"]
    assert "Ridge walk" in text_of(answer.message)
    assert not answer.message["flags"] & (1 << 7)  # no longer loading


async def test_an_unexpected_failure_still_gets_an_answer(
    dc: DiscordHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Core turns its own errors into answers; the adapter's safety net covers the rest."""

    async def broken(ctx, text):
        raise RuntimeError("a bug outside core's guard")

    monkeypatch.setattr(interactions, "handle_text", broken)
    answer = await dc.slash(dc.add_user(1, "Maya"), "help")
    assert "Something went wrong on our side. Reference:" in answer.text and answer.ephemeral
    [logged] = errors_logged(caplog.records)
    assert logged.startswith("Discord interaction failed (ref ")
    caplog.clear()  # expected here; the autouse check fails on any other


async def test_add_to_calendar_attaches_an_ics_file(dc: DiscordHarness) -> None:
    await community(dc)
    ana = dc.add_user(2, "Ana")
    card = (await dc.slash(ana, "event", activity=1)).message
    answer = await dc.click(ana, card, "Add to calendar")
    [attachment] = [a for m in answer.messages for a in m.get("attachments") or []]
    assert attachment["filename"].endswith("-1.ics")
    [entry] = Calendar.from_ical(dc.emu.uploads[attachment["id"]]).walk("VEVENT")
    assert str(entry["UID"]) == "activity-1@community-bot"


async def test_an_activity_of_a_discord_homed_group_is_a_scheduled_event(
    dc: DiscordHarness,
) -> None:
    """Created, edited and cancelled in step (#15 item 7), with a link back to the card."""
    maya = dc.add_user(1, "Maya", manager=True)
    await dc.slash(maya, "newgroup", name="Hiking")
    await dc.slash(maya, "bindgroup", group="hiking")
    await new_event(dc, maya, "Ridge walk", seats=10)
    mirror = ScheduledEvents(dc.services, dc.bot)
    assert await mirror.run_due() == 1

    [native] = dc.emu.scheduled[GUILD].values()
    assert native["name"] == "Ridge walk" and native["entity_type"] == 3
    assert native["entity_metadata"] == {"location": "Trailhead"}
    assert native["scheduled_start_time"].startswith("2026-12-06T07:30")
    assert native["scheduled_end_time"].startswith("2026-12-06T09:30")
    assert "Sign up: /event 1" in native["description"]
    assert f"https://discord.com/channels/{GUILD}/{CHANNEL}/" in native["description"]

    await dc.slash(maya, "editevent", activity=1, field="place", value="Old bridge")
    await mirror.run_due()
    [native] = dc.emu.scheduled[GUILD].values()  # the same one, changed
    assert native["entity_metadata"] == {"location": "Old bridge"}

    await dc.slash(maya, "cancelevent", activity=1)
    await mirror.run_due()
    [native] = dc.emu.scheduled[GUILD].values()
    assert native["status"] == 4  # CANCELED
    assert await mirror.run_due() == 0  # nothing left to do


async def test_a_series_and_check_in_on_discord(dc: DiscordHarness) -> None:
    """Recurring activities and attendance through slash commands and buttons (#15)."""
    maya = await community(dc, capacity=5)
    repeated = await dc.slash(maya, "repeat", activity=1, how="weekly", times=4)
    assert "now repeats every week, 4 times in all" in repeated.text
    ana = dc.add_user(2, "Ana")
    card = (await dc.slash(ana, "event", activity=2)).message
    joined = await dc.click(ana, card, "Every time")
    assert "signed up for every occurrence" in joined.text
    exported = await dc.slash(maya, "export", activity=2)
    [attachment] = [a for m in exported.messages for a in m.get("attachments") or []]
    assert attachment["filename"] == "roster-2.csv"
    assert b"Ana" in dc.emu.uploads[attachment["id"]]


async def test_maybe_and_a_guest_on_discord(dc: DiscordHarness) -> None:
    maya = await community(dc, capacity=3)
    await dc.slash(maya, "editevent", activity=1, field="guests", value="1")
    ana = dc.add_user(2, "Ana")
    card = (await dc.slash(ana, "event", activity=1)).message
    maybe = await dc.click(ana, card, "Maybe")
    assert "Marked as maybe" in maybe.text
    await dc.click(ana, card, "Sign up")
    guest = await dc.click(ana, card, "Guest")
    assert "You're going, with 1 guest." in guest.text
    assert "2/3 going" in text_of(dc.current(card))

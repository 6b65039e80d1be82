"""The Discord emulator, driven through the real discord.py client the bot uses in production.

These tests pin down that discord.py can parse everything the emulator sends (READY,
GUILD_CREATE, interactions, callback responses, errors) and that each Discord rule surfaces as
the discord.py exception production code will see.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import time
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.emulators.discord import (
    APPLICATION_ID,
    BOT_ID,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    DiscordEmulator,
    EmuInteraction,
)

TOKEN = "emulator-test-token"
GUILD_ID = 100
CHANNEL_ID = 200
USER_ID = 7
CLOSED_DM_USER_ID = 8
GUILD = discord.Object(GUILD_ID)


class SkewClock:
    """Follows time.monotonic (so discord.py's real sleeps on 429 count) and can jump ahead."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture(autouse=True)
def no_loop_errors(caplog: pytest.LogCaptureFixture) -> Any:
    """Fail on pending-task, unclosed-session and handler errors logged during the test."""
    yield
    gc.collect()
    records = [*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records]
    bad = [
        record
        for record in records
        if record.levelno >= logging.ERROR
        and record.name.split(".")[0] in ("asyncio", "discord", "tests", "aiohttp")
    ]
    assert not bad, [record.getMessage() for record in bad]


@pytest.fixture
def api_clock() -> SkewClock:
    return SkewClock()


@pytest.fixture
async def emu(api_clock: SkewClock) -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(clock=api_clock, valid_tokens={TOKEN}) as emulator:
        emulator.add_user(USER_ID, "ann", global_name="Ann", locale="de")
        emulator.add_user(CLOSED_DM_USER_ID, "bob", dms_open=False)
        emulator.add_guild(
            GUILD_ID, "Community", channels=[(CHANNEL_ID, "general")], owner_id=USER_ID
        )
        emulator.add_member(GUILD_ID, CLOSED_DM_USER_ID)
        with emulator.redirect_discord():
            yield emulator
    await asyncio.sleep(0)
    leftover = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    assert not leftover, leftover


def make_client(**options: Any) -> discord.Client:
    options.setdefault("intents", discord.Intents.default())
    # on_ready waits guild_ready_timeout (2 s by default) after the last GUILD_CREATE.
    return discord.Client(guild_ready_timeout=0.05, **options)


class QuickReidentifyClient(discord.Client):
    """discord.Client sleeps 5 s before every IDENTIFY but the first one; tests skip that."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


@contextlib.asynccontextmanager
async def running(client: discord.Client) -> AsyncIterator[discord.Client]:
    """Run ``client.start`` in a task until the block ends; fail fast if it cannot start."""
    task = asyncio.create_task(client.start(TOKEN))
    try:
        async with asyncio.timeout(10):
            while not client.is_ready() and not task.done():  # noqa: ASYNC110 - polls 2 sources
                await asyncio.sleep(0.005)
    except TimeoutError:
        await client.close()
        await task
        raise
    if task.done():
        await client.close()
        task.result()
        raise RuntimeError("the client stopped before it was ready")
    try:
        yield client
    finally:
        await client.close()
        await task


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - conditions on client state have no event
            await asyncio.sleep(0.005)


def text_channel(client: discord.Client) -> discord.TextChannel:
    channel = client.get_channel(CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    return channel


# --------------------------------------------------------------------------------------------
# Login, READY and GUILD_CREATE


async def test_ready_and_guild_create_populate_the_cache(emu: DiscordEmulator) -> None:
    client = make_client()
    async with running(client):
        guild = client.get_guild(GUILD_ID)
        assert guild is not None
        assert (guild.name, guild.owner_id, guild.member_count) == ("Community", USER_ID, 3)
        assert guild.me is not None and guild.me.id == BOT_ID
        assert text_channel(client).name == "general"
        assert client.user is not None and client.user.id == BOT_ID
        assert client.application_id == APPLICATION_ID
        assert client.latency < 1.0  # the heartbeat sent on HELLO was acknowledged

    assert [call.route for call in emu.calls[:2]] == [
        "GET /users/@me",
        "GET /oauth2/applications/@me",
    ]
    assert emu.identifies[0]["token"] == TOKEN
    assert emu.identifies[0]["intents"] == discord.Intents.default().value
    assert emu.connections[0]["compress"] == "zlib-stream"
    dispatched = [frame for frame in emu.gateway_log if frame.direction == "out" and frame.op == 0]
    assert [frame.t for frame in dispatched[:2]] == ["READY", "GUILD_CREATE"]
    assert [frame.s for frame in dispatched] == list(range(1, len(dispatched) + 1))
    await eventually(lambda: emu.connections[0]["closed_by"] is not None)
    assert emu.connections[0]["closed_by"] == "client"
    assert not emu.connected


async def test_wrong_token_is_a_login_failure(emu: DiscordEmulator) -> None:
    client = make_client()
    with pytest.raises(discord.LoginFailure):
        await client.start("not-the-token")
    await client.close()
    assert emu.calls[0].status == 401


# --------------------------------------------------------------------------------------------
# Application commands


async def test_synced_slash_command_runs_and_answers_ephemerally(emu: DiscordEmulator) -> None:
    client = make_client()
    tree = app_commands.CommandTree(client)
    seen: dict[str, Any] = {}

    @tree.command(name="hello", description="Say hello", guild=GUILD)
    async def hello(interaction: discord.Interaction, name: str, times: int = 1) -> None:
        seen.update(name=name, times=times, locale=str(interaction.locale))
        seen["user"] = interaction.user.id
        seen["app_permissions"] = interaction.app_permissions.send_messages
        await interaction.response.send_message(f"Hello {name} x{times}", ephemeral=True)

    async with running(client):
        synced = await tree.sync(guild=GUILD)
        [stored] = emu.commands(GUILD_ID)
        interaction = await emu.slash(
            USER_ID, GUILD_ID, CHANNEL_ID, "hello", {"name": "Ann", "times": 2}
        )
        response = await emu.wait_for_response(interaction)

        with pytest.raises(ValueError, match="no option"):
            await emu.slash(USER_ID, GUILD_ID, CHANNEL_ID, "hello", {"nmae": "typo"})
        with pytest.raises(ValueError, match="missing required"):
            await emu.slash(USER_ID, GUILD_ID, CHANNEL_ID, "hello", {"times": 1})

    assert [command.name for command in synced] == ["hello"]
    assert str(synced[0].id) == stored["id"]
    assert [(o["name"], o["type"], o["required"]) for o in stored["options"]] == [
        ("name", 3, True),
        ("times", 4, False),
    ]
    assert emu.commands() == []  # nothing global
    assert interaction.data["id"] == stored["id"]
    assert interaction.data["guild_id"] == str(GUILD_ID)
    assert seen == {
        "name": "Ann",
        "times": 2,
        "locale": "de",
        "user": USER_ID,
        "app_permissions": True,
    }
    assert response.type == 4
    assert response.flags & FLAG_EPHEMERAL
    assert response.content == "Hello Ann x2"
    message = emu.message(response.message_id)  # type: ignore[arg-type]
    assert message["interaction_metadata"]["user"]["id"] == str(USER_ID)
    assert interaction.acknowledged and interaction.original_message_id == response.message_id


async def test_second_answer_and_late_answer_are_refused(
    emu: DiscordEmulator, api_clock: SkewClock
) -> None:
    client = make_client()
    tree = app_commands.CommandTree(client)
    gate = asyncio.Event()
    outcome: list[BaseException | str] = []

    @tree.command(name="slow", description="Answers when told to", guild=GUILD)
    async def slow(interaction: discord.Interaction) -> None:
        await gate.wait()
        try:
            await interaction.response.send_message("finally")
        except discord.HTTPException as exc:
            outcome.append(exc)
        else:
            outcome.append("sent")

    async with running(client):
        await tree.sync(guild=GUILD)
        on_time = await emu.slash(USER_ID, GUILD_ID, CHANNEL_ID, "slow")
        gate.set()
        await emu.wait_for_response(on_time)
        async with aiohttp.ClientSession() as http:
            again = await http.post(
                f"{emu.api_url}/interactions/{on_time.id}/{on_time.token}/callback",
                json={"type": 4, "data": {"content": "again"}},
            )
            again_body = await again.json()

        gate.clear()
        late = await emu.slash(USER_ID, GUILD_ID, CHANNEL_ID, "slow")
        api_clock.advance(emu.interaction_ttl + 0.5)
        gate.set()
        await eventually(lambda: len(outcome) == 2)

        api_clock.advance(emu.token_ttl)
        async with aiohttp.ClientSession() as http:
            expired = await http.patch(
                f"{emu.api_url}/webhooks/{APPLICATION_ID}/{on_time.token}/messages/@original",
                json={"content": "too late to edit"},
            )
            expired_body = await expired.json()

    assert outcome[0] == "sent"
    assert (again.status, again_body["code"]) == (400, 40060)
    assert again_body["message"] == "Interaction has already been acknowledged."
    error = outcome[1]
    assert isinstance(error, discord.NotFound)
    assert (error.status, error.code) == (404, 10062)
    assert not late.acknowledged
    assert (expired.status, expired_body["code"]) == (401, 50027)  # the token lives 15 minutes
    assert [response.interaction for response in emu.responses] == [on_time]


async def test_deferred_answer_followups_and_original_edits(emu: DiscordEmulator) -> None:
    client = make_client()
    tree = app_commands.CommandTree(client)
    results: dict[str, Any] = {}

    @tree.command(name="report", description="A slow report", guild=GUILD)
    async def report(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        first = await interaction.followup.send("Report ready", ephemeral=False, wait=True)
        await interaction.edit_original_response(content="Report ready (v2)")
        extra = await interaction.followup.send("Details", wait=True)
        original = await interaction.original_response()
        results.update(first=first.id, extra=extra.id, original=original.id)
        results["original_content"] = original.content

    async with running(client):
        await tree.sync(guild=GUILD)
        interaction = await emu.slash(USER_ID, GUILD_ID, CHANNEL_ID, "report")
        await eventually(lambda: "original" in results)

    kinds = [(response.kind, response.type) for response in interaction.responses]
    assert kinds == [("callback", 5), ("followup", None), ("edit", None), ("followup", None)]
    # The first followup after a deferral edits the loading message and keeps it ephemeral.
    assert results["first"] == results["original"] == interaction.original_message_id
    assert results["original_content"] == "Report ready (v2)"
    original = emu.message(results["original"])
    assert original["flags"] & FLAG_EPHEMERAL and not original["flags"] & FLAG_LOADING
    assert emu.message(results["extra"])["content"] == "Details"
    assert interaction.followup_ids == [results["extra"]]


async def test_autocomplete_choices_come_back(emu: DiscordEmulator) -> None:
    client = make_client()
    tree = app_commands.CommandTree(client)
    groups = ["Board games", "Bouldering", "Chess"]

    @tree.command(name="join", description="Join a group", guild=GUILD)
    async def join(interaction: discord.Interaction, group: str) -> None:
        await interaction.response.send_message(group)

    @join.autocomplete("group")
    async def complete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=g, value=g) for g in groups if current in g.lower()]

    async with running(client):
        await tree.sync(guild=GUILD)
        typing = await emu.autocomplete(USER_ID, GUILD_ID, CHANNEL_ID, "join", {"group": "bo"})
        response = await emu.wait_for_response(typing)

    assert response.type == 8
    assert [choice["name"] for choice in response.choices] == ["Board games", "Bouldering"]


# --------------------------------------------------------------------------------------------
# Components and modals


class VoteView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Vote", custom_id="vote:1", style=discord.ButtonStyle.primary)
    async def vote(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(embed=discord.Embed(title="Thanks for voting"))


async def test_button_click_edits_the_message(emu: DiscordEmulator) -> None:
    client = make_client()
    async with running(client):
        sent = await text_channel(client).send("Vote now", view=VoteView())
        stored = emu.message(sent.id)
        assert emu.buttons(stored) == [("Vote", "vote:1")]

        click = await emu.click(USER_ID, stored, emu.find_button(stored, "Vote"))
        response = await emu.wait_for_response(click)

        with pytest.raises(LookupError, match="no button"):
            await emu.click(USER_ID, stored, "vote:2")

    assert click.payload["message"]["id"] == str(sent.id)
    assert click.payload["data"] == {"custom_id": "vote:1", "component_type": 2}
    assert response.type == 7
    assert response.embeds[0]["title"] == "Thanks for voting"
    updated = emu.message(sent.id)
    assert updated["content"] == "Vote now"
    assert updated["embeds"][0]["title"] == "Thanks for voting"
    assert updated["components"] == stored["components"]
    assert updated["edited_timestamp"] is not None
    assert stored["embeds"] == []  # snapshots taken earlier stay unchanged


class PickView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.select(
        custom_id="pick",
        max_values=2,
        options=[
            discord.SelectOption(label="A", value="a"),
            discord.SelectOption(label="B", value="b"),
        ],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content=f"Picked {','.join(select.values)}")


async def test_select_deferred_update_then_edit_and_delete(emu: DiscordEmulator) -> None:
    client = make_client()
    async with running(client):
        sent = await text_channel(client).send("Pick", view=PickView())
        choice = await emu.select(USER_ID, sent.id, "pick", ["a", "b"])
        await emu.wait_for_response(choice, kind="edit")
        after_pick = emu.message(sent.id)
        with pytest.raises(ValueError, match="no options"):
            await emu.select(USER_ID, sent.id, "pick", ["z"])
        await sent.edit(content="Closed", view=None)
        after_edit = emu.message(sent.id)
        await sent.delete()

    assert [(r.kind, r.type) for r in choice.responses] == [("callback", 6), ("edit", None)]
    assert choice.original_message_id == sent.id  # @original is the component's message
    assert choice.payload["data"]["values"] == ["a", "b"]
    assert after_pick["content"] == "Picked a,b"
    assert (after_edit["content"], after_edit["components"]) == ("Closed", [])
    assert emu.messages(CHANNEL_ID) == []
    frames = [f.t for f in emu.gateway_log if f.t and f.t.startswith("MESSAGE_")]
    assert frames == ["MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_UPDATE", "MESSAGE_DELETE"]


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="Your text", custom_id="text", max_length=20
    )

    def __init__(self, received: list[str]) -> None:
        super().__init__(custom_id="feedback-modal")
        self.received = received

    async def on_submit(self, interaction: discord.Interaction) -> None:
        self.received.append(self.text.value)
        await interaction.response.send_message("Thanks!", ephemeral=True)


async def test_modal_is_shown_and_submitted(emu: DiscordEmulator) -> None:
    client = make_client()
    tree = app_commands.CommandTree(client)
    received: list[str] = []

    @tree.command(name="feedback", description="Send feedback")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal(received))

    async with running(client):
        await tree.sync()
        opened = await emu.slash(USER_ID, GUILD_ID, CHANNEL_ID, "feedback")
        shown = await emu.wait_for_response(opened)
        with pytest.raises(ValueError, match="takes 20 characters"):
            await emu.submit_modal(USER_ID, "feedback-modal", {"Your text": "x" * 21})
        with pytest.raises(ValueError, match="no fields"):
            await emu.submit_modal(USER_ID, "feedback-modal", {"Your text": "ok", "Rating": "5"})
        submitted = await emu.submit_modal(USER_ID, "feedback-modal", {"Your text": "Great"})
        reply = await emu.wait_for_response(submitted)

    assert [command["name"] for command in emu.commands()] == ["feedback"]
    assert "guild_id" not in opened.data  # a global command
    assert shown.type == 9
    assert (shown.data["custom_id"], shown.data["title"]) == ("feedback-modal", "Feedback")
    assert submitted.data["components"][0]["components"][0]["value"] == "Great"
    assert received == ["Great"]
    assert (reply.type, reply.content, reply.ephemeral) == (4, "Thanks!", True)


# --------------------------------------------------------------------------------------------
# Messages, DMs, mentions, validation


async def test_direct_messages_and_closed_dms(emu: DiscordEmulator) -> None:
    client = make_client()
    async with running(client):
        ann = await client.fetch_user(USER_ID)
        sent = await ann.send("Your event starts soon")
        bob = await client.fetch_user(CLOSED_DM_USER_ID)
        with pytest.raises(discord.Forbidden) as refused:
            await bob.send("Hi")

    dm = emu.dm_channel_of(USER_ID)
    assert dm is not None and sent.channel.id == dm
    assert [m["content"] for m in emu.messages(dm)] == ["Your event starts soon"]
    assert (refused.value.status, refused.value.code) == (403, 50007)
    assert refused.value.text == "Cannot send messages to this user"


async def test_allowed_mentions_are_recorded_and_applied(emu: DiscordEmulator) -> None:
    client = make_client(allowed_mentions=discord.AllowedMentions.none())
    async with running(client):
        channel = text_channel(client)
        quiet = await channel.send(f"@everyone <@{USER_ID}> joined")
        loud = await channel.send(
            f"@everyone <@{USER_ID}> joined", allowed_mentions=discord.AllowedMentions.all()
        )

    calls = emu.calls_to("POST /channels/{channel_id}/messages")
    assert calls[0].json["allowed_mentions"] == {"parse": []}
    assert emu.allowed_mentions_of(quiet.id) == {"parse": []}
    assert (emu.message(quiet.id)["mention_everyone"], emu.message(quiet.id)["mentions"]) == (
        False,
        [],
    )
    assert quiet.mention_everyone is False and quiet.mentions == []
    # The bot's role has MENTION_EVERYONE, so without the client default this pings everyone.
    assert emu.message(loud.id)["mention_everyone"] is True
    assert [user.id for user in loud.mentions] == [USER_ID]


async def test_discord_limits_raise_http_exceptions(emu: DiscordEmulator) -> None:
    client = make_client()
    async with running(client):
        channel = text_channel(client)
        with pytest.raises(discord.HTTPException) as too_long:
            await channel.send("x" * 2001)
        with pytest.raises(discord.HTTPException) as long_title:
            await channel.send(embed=discord.Embed(title="t" * 257))
        ok = await channel.send("x" * 2000)

    assert (too_long.value.status, too_long.value.code) == (400, 50035)
    assert "In content: Must be 2000 or fewer in length." in too_long.value.text
    assert "In embeds.0.title: Must be 256 or fewer in length." in long_title.value.text
    assert len(emu.message(ok.id)["content"]) == 2000


async def test_raw_rest_validation_and_headers(emu: DiscordEmulator) -> None:
    button = {"type": 2, "style": 1, "label": "Go", "custom_id": "go"}

    def row(*buttons: dict[str, Any]) -> dict[str, Any]:
        return {"type": 1, "components": list(buttons)}

    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"content": ""}, 50006, ""),
        ({"content": "   "}, 50006, ""),
        ({"embeds": [{"title": "x"}] * 11}, 50035, "embeds"),
        (
            {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]},
            50035,
            "Must be 25 or fewer",
        ),
        ({"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]}, 50035, "value"),
        ({"embeds": [{"footer": {"text": "f" * 2049}}]}, 50035, "footer"),
        ({"embeds": [{"description": "d" * 4000}] * 2}, 50035, "MAX_EMBED_SIZE_EXCEEDED"),
        ({"components": [row({**button, "custom_id": f"b{i}"}) for i in range(6)]}, 50035, ""),
        ({"components": [row(*({**button, "custom_id": f"b{i}"} for i in range(6)))]}, 50035, ""),
        ({"components": [row({**button, "custom_id": "c" * 101})]}, 50035, "custom_id"),
        ({"components": [row({**button, "label": "l" * 81})]}, 50035, "label"),
        ({"components": [row(button, button)]}, 50035, "DUPLICATED"),
    ]
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {TOKEN}"}) as http:
        url = f"{emu.api_url}/channels/{CHANNEL_ID}/messages"
        for body, code, detail in cases:
            async with http.post(url, json=body) as response:
                error = await response.json()
                assert (response.status, error["code"]) == (400, code), body
                assert detail in json.dumps(error), error
        async with http.post(url, json={"content": "fine"}) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "application/json"
            assert response.headers["Via"]
            assert int(response.headers["X-RateLimit-Remaining"]) > 0
        async with http.get(f"{emu.api_url}/channels/999") as response:
            assert (response.status, (await response.json())["code"]) == (404, 10003)
    async with (
        aiohttp.ClientSession() as anonymous,
        anonymous.get(f"{emu.api_url}/users/@me") as response,
    ):
        assert response.status == 401


async def test_message_content_intent_is_enforced(emu: DiscordEmulator) -> None:
    received: list[tuple[str, bool]] = []
    client = make_client()

    @client.event
    async def on_message(message: discord.Message) -> None:
        received.append((message.content, message.guild is None))

    async with running(client):
        await emu.send_message(USER_ID, CHANNEL_ID, "secret plans")
        await emu.send_message(USER_ID, CHANNEL_ID, f"<@{BOT_ID}> hello")
        await emu.send_message(USER_ID, None, "in a DM")
        await eventually(lambda: len(received) == 3)

    assert received == [("", False), (f"<@{BOT_ID}> hello", False), ("in a DM", True)]
    assert emu.messages(CHANNEL_ID)[0]["content"] == "secret plans"


# --------------------------------------------------------------------------------------------
# Rate limits


async def test_injected_429_is_slept_on_and_retried(emu: DiscordEmulator) -> None:
    client = make_client()
    async with running(client):
        emu.fail_next("POST /channels/{channel_id}/messages", retry_after=0.2)
        started = time.monotonic()
        sent = await text_channel(client).send("after a wait")
        elapsed = time.monotonic() - started

    calls = emu.calls_to("POST /channels/{channel_id}/messages")
    assert [call.status for call in calls] == [429, 200]
    assert calls[0].error == {
        "message": "You are being rate limited.",
        "retry_after": 0.2,
        "global": False,
    }
    assert calls[1].time - calls[0].time >= 0.2 - 0.005
    assert elapsed >= 0.2
    assert [throttle.reason for throttle in emu.throttles] == ["fail_next"]
    assert emu.early_retries == []
    assert emu.message(sent.id)["content"] == "after a wait"


async def test_route_limits_are_honoured_from_headers(emu: DiscordEmulator) -> None:
    client = make_client()
    async with running(client):
        emu.rate_limit(per_route_per_second=2)
        channel = text_channel(client)
        for number in range(3):
            await channel.send(f"message {number}")

    calls = emu.calls_to("POST /channels/{channel_id}/messages")
    # discord.py saw X-RateLimit-Remaining: 0 and waited for the reset instead of a 429.
    assert [call.status for call in calls] == [200, 200, 200]
    assert calls[2].time - calls[0].time >= 0.9
    assert emu.throttles == []


async def test_global_limit_answers_429_global(emu: DiscordEmulator) -> None:
    client = make_client()
    async with running(client):
        emu.rate_limit(global_per_second=1)
        await text_channel(client).send("one")
        await text_channel(client).send("two")

    statuses = [call.status for call in emu.calls_to("POST /channels/{channel_id}/messages")]
    assert statuses == [200, 429, 200]
    assert emu.throttles[0].scope == "global"
    assert emu.early_retries == []


# --------------------------------------------------------------------------------------------
# Gateway: resume, reconnect, invalid session


async def test_client_resumes_and_reidentifies(emu: DiscordEmulator) -> None:
    received: list[str] = []
    client = QuickReidentifyClient(
        intents=discord.Intents.default() | discord.Intents(message_content=True),
        guild_ready_timeout=0.05,
    )

    readies: list[int] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        received.append(message.content)

    @client.event
    async def on_ready() -> None:
        readies.append(len(emu.identifies))

    async with running(client):
        [session_id] = emu.sessions
        mark = len(emu.gateway_log)
        await emu.disconnect()
        # Sent while the bot is away: kept in the session and replayed on RESUME.
        await emu.send_message(USER_ID, CHANNEL_ID, "while away")
        resume = await emu.wait_for_gateway("RESUME", since=mark)
        await emu.wait_for_gateway("RESUMED", since=mark)
        await eventually(lambda: received == ["while away"])

        mark = len(emu.gateway_log)
        await emu.restart_gateway()
        await emu.wait_for_gateway("RESUMED", since=mark)

        mark = len(emu.gateway_log)
        await emu.invalidate_sessions()
        await emu.wait_for_gateway("READY", since=mark)
        await emu.send_message(USER_ID, CHANNEL_ID, "after identify")
        await eventually(lambda: received[-1:] == ["after identify"])
        # on_ready fires again once the new GUILD_CREATE stream is over.
        await eventually(lambda: readies == [1, 2])
        assert emu.connected

    assert resume.d["session_id"] == session_id
    assert [(c["path"], c["close_code"], c["closed_by"]) for c in emu.connections[:3]] == [
        ("/gateway", 4000, "emulator"),  # emu.disconnect()
        ("/gateway/resume", 4000, "client"),  # op 7 RECONNECT: discord.py closes with 4000
        ("/gateway/resume", 1000, "client"),  # op 9: discord.py closes with 1000
    ]
    # discord.py re-identifies at the last gateway it used, here the resume URL.
    assert emu.connections[3]["path"] == "/gateway/resume"
    assert len(emu.identifies) == 2
    assert emu.identifies[1]["intents"] & discord.Intents(message_content=True).value


async def test_raw_gateway_plain_and_zlib(emu: DiscordEmulator) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"{emu.gateway_url}?v=10&encoding=json") as ws:
            hello = await ws.receive_json()
            assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
            await ws.send_json({"op": 1, "d": None})
            assert (await ws.receive_json())["op"] == 11
            await ws.send_json({"op": 2, "d": {"token": TOKEN, "intents": 1, "properties": {}}})
            ready, guild = await ws.receive_json(), await ws.receive_json()
            assert (ready["t"], ready["s"], guild["t"], guild["s"]) == (
                "READY",
                1,
                "GUILD_CREATE",
                2,
            )
            assert ready["d"]["resume_gateway_url"] == emu.resume_gateway_url
            assert ready["d"]["guilds"] == [{"id": str(GUILD_ID), "unavailable": True}]
            assert guild["d"]["unavailable"] is False
            await ws.send_json({"op": 2, "d": {"token": TOKEN, "intents": 1}})
            await ws.receive()
            assert ws.close_code == 4005

        async with http.ws_connect(
            f"{emu.gateway_url}?v=10&encoding=json&compress=zlib-stream"
        ) as ws:
            inflate = zlib.decompressobj()
            frame = await ws.receive_bytes()
            assert frame.endswith(b"\x00\x00\xff\xff")
            assert json.loads(inflate.decompress(frame))["op"] == 10
            await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 1}})
            await ws.receive()
            assert ws.close_code == 4004


# --------------------------------------------------------------------------------------------
# Throughput


async def test_hundreds_of_interactions_are_fast(emu: DiscordEmulator) -> None:
    client = make_client()
    tree = app_commands.CommandTree(client)

    @tree.command(name="ping", description="Pong", guild=GUILD)
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    async with running(client):
        await tree.sync(guild=GUILD)
        started = time.monotonic()
        sent: list[EmuInteraction] = [
            await emu.slash(USER_ID, GUILD_ID, CHANNEL_ID, "ping") for _ in range(300)
        ]
        await eventually(lambda: len(emu.responses) == 300, timeout=10)
        elapsed = time.monotonic() - started

    assert all(interaction.response_type == 4 for interaction in sent)
    assert elapsed < 5, f"300 interactions took {elapsed:.2f}s"

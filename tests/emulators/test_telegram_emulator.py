"""The Telegram emulator, driven through the real aiogram client the bot uses in production.

These tests pin down that aiogram can parse everything the emulator returns and that each
Telegram rule surfaces as the aiogram exception production code will see.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, html
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from aiohttp import web

from tests.emulators.telegram import BOT_ID, TelegramEmulator, parse_html

TOKEN = "42:TEST-TOKEN"
USER_ID = 7
GROUP_ID = -1001234567890


class FakeClock:
    """Stands in for time.monotonic so expiry and flood waits need no real sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def api_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def emu(api_clock: FakeClock) -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator(clock=api_clock) as emulator:
        emulator.add_user(USER_ID, "Ann", username="ann")
        yield emulator


@pytest.fixture
async def bot(emu: TelegramEmulator) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
    yield Bot(TOKEN, session=session)
    # AiohttpSession.close() sleeps 250 ms to let TLS connections wind down; plain HTTP to
    # localhost has none, so close the underlying aiohttp session directly.
    client = await session.create_session()
    await client.close()


@contextlib.asynccontextmanager
async def polling(dp: Dispatcher, bot: Bot) -> AsyncIterator[None]:
    """Run the dispatcher's long polling against the emulator for the duration of the block."""
    started = asyncio.Event()

    async def on_startup() -> None:
        started.set()

    dp.startup.register(on_startup)
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=5)
    )
    await started.wait()
    try:
        yield
    finally:
        await dp.stop_polling()
        await task


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data)] for text, data in buttons
        ]
    )


async def test_get_me_returns_the_test_bot(emu: TelegramEmulator, bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.is_bot, me.first_name, me.username) == (
        BOT_ID,
        True,
        "Community",
        "community_test_bot",
    )
    assert me.can_join_groups is True
    assert emu.tokens == {TOKEN}
    assert emu.calls[-1].method == "getMe"


async def test_polled_message_reaches_handler_and_reply_is_stored(
    emu: TelegramEmulator, bot: Bot
) -> None:
    emu.add_user(8, "Bob <3 & co", language_code="ru")
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def greet(message: Message) -> None:
        assert message.from_user is not None
        name = html.quote(message.from_user.first_name)
        await message.answer(f"Hi, {html.bold(name)}!", parse_mode="HTML")

    async with polling(dp, bot):
        update = emu.send_message(8, "/start ref42")
        call = await emu.wait_for("sendMessage")

    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert call.params["text"] == "Hi, <b>Bob &lt;3 &amp; co</b>!"
    reply = emu.last_message(8)
    assert reply is not None
    assert reply["plain"] == "Hi, Bob <3 & co!"
    assert reply["text"] == call.params["text"]
    assert reply["entities"] == [{"type": "bold", "offset": 4, "length": 11}]
    assert [m["text"] for m in emu.messages(8, include_incoming=True)] == [
        "/start ref42",
        reply["text"],
    ]


async def test_click_answer_and_edit(emu: TelegramEmulator, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def menu(message: Message) -> None:
        await message.answer(
            "Pick one", reply_markup=keyboard(("Join ✅", "join:1"), ("Skip", "skip"))
        )

    @dp.callback_query(F.data == "join:1")
    async def join(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("Joined")
        await query.answer("Welcome!", show_alert=True)

    async with polling(dp, bot):
        emu.send_message(USER_ID, "/start")
        await emu.wait_for("sendMessage")
        menu_message = emu.last_message(USER_ID)
        assert menu_message is not None
        assert emu.buttons(menu_message) == [("Join ✅", "join:1"), ("Skip", "skip")]
        _, data = emu.find_button(menu_message, "Join")
        assert data is not None
        update = emu.click(USER_ID, menu_message, data)
        await emu.wait_for("answerCallbackQuery")

    query_id = update["callback_query"]["id"]
    assert emu.callback_answers == [
        {
            "callback_query_id": query_id,
            "user_id": USER_ID,
            "text": "Welcome!",
            "show_alert": True,
            "url": None,
            "cache_time": None,
            "waited": 0.0,  # the fake clock did not move
            "handled_in": 0.0,
        }
    ]
    edited = emu.last_message(USER_ID)
    assert edited is not None
    assert edited["message_id"] == menu_message["message_id"]
    # Editing the text without repeating the keyboard removes it, as on Telegram.
    assert (edited["plain"], edited["reply_markup"]) == ("Joined", None)
    assert edited["edit_date"] is not None
    assert menu_message["plain"] == "Pick one"  # snapshots held by the test do not change
    with pytest.raises(LookupError, match="no button"):
        emu.click(USER_ID, edited, "join:1")


async def test_html_is_validated_like_telegram(emu: TelegramEmulator, bot: Bot) -> None:
    user_text = "<script> & AT&T"

    sent = await bot.send_message(
        USER_ID, f"<b>Note:</b> {html.quote(user_text)}", parse_mode="HTML"
    )

    assert sent.text == "Note: <script> & AT&T"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    stored = emu.last_message(USER_ID)
    assert stored is not None
    assert stored["text"] == "<b>Note:</b> &lt;script&gt; &amp; AT&amp;T"
    assert stored["plain"] == sent.text
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(USER_ID, "<b>&", parse_mode="HTML")
    for text, reason in [
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("Tom & Jerry", 'Unescaped "&" at byte offset 4'),
    ]:
        with pytest.raises(TelegramBadRequest) as error:
            await bot.send_message(USER_ID, text, parse_mode="HTML")
        assert error.value.message.startswith(f"Bad Request: can't parse entities: {reason}")
    # Without parse_mode nothing is parsed.
    plain = await bot.send_message(USER_ID, "1 < 2 & <b>")
    assert plain.text == "1 < 2 & <b>"


def test_parse_html_entities_match_telegram() -> None:
    text, entities = parse_html(
        '👍 <i>a</i> <a href="https://x.org/?a=1&amp;b=2">link</a> '
        '<pre><code class="language-python">x = 1</code></pre> '
        '<blockquote expandable>q</blockquote> <span class="tg-spoiler">s</span> &#33;&#x3F;'
    )

    assert text == "👍 a link x = 1 q s !?"
    assert entities == [
        {"type": "italic", "offset": 3, "length": 1},  # the emoji is two UTF-16 units
        {"type": "text_link", "offset": 5, "length": 4, "url": "https://x.org/?a=1&b=2"},
        {"type": "pre", "offset": 10, "length": 5, "language": "python"},
        {"type": "expandable_blockquote", "offset": 16, "length": 1},
        {"type": "spoiler", "offset": 18, "length": 1},
    ]
    assert parse_html("AT&T &nbsp;", strict_ampersand=False) == ("AT&T &nbsp;", [])


async def test_text_length_is_counted_after_entity_parsing(emu: TelegramEmulator, bot: Bot) -> None:
    await bot.send_message(USER_ID, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(USER_ID, "&lt;" * 4096, parse_mode="HTML")

    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(USER_ID, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(USER_ID, "<i>" + "&amp;" * 4097 + "</i>", parse_mode="HTML")
    # aiogram drops empty strings from the form, so "" arrives as a missing text.
    for empty in ("", "   ", "<b> </b>"):
        with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
            await bot.send_message(USER_ID, empty, parse_mode="HTML")
    assert len(emu.messages(USER_ID)) == 2


async def test_inline_keyboard_buttons_are_validated(emu: TelegramEmulator, bot: Bot) -> None:
    # aiogram only checks the length when packing a CallbackData factory, not for plain strings.
    await bot.send_message(USER_ID, "ok", reply_markup=keyboard(("Go", "я" * 32)))  # 64 bytes

    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await bot.send_message(USER_ID, "no", reply_markup=keyboard(("Go", "я" * 33)))
    with pytest.raises(TelegramBadRequest, match="Text buttons are not allowed"):
        await bot.send_message(USER_ID, "no", reply_markup=keyboard(("Go", "")))
    link = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Site", url="https://example.org")]]
    )
    sent = await bot.send_message(USER_ID, "link", reply_markup=link)
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].url == "https://example.org"
    stored = emu.last_message(USER_ID)
    assert stored is not None
    assert emu.buttons(stored) == [("Site", "https://example.org")]


async def test_users_who_never_started_or_blocked_the_bot_get_403(
    emu: TelegramEmulator, bot: Bot
) -> None:
    emu.add_user(8, "Lurker", started=False)

    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await bot.send_message(8, "hello")
    emu.send_message(8, "/start")  # writing to the bot starts it
    await bot.send_message(8, "hello")
    emu.block(8)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(8, "still there?")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(404, "nobody")


async def test_fail_every_gives_429_and_records_early_retries(
    emu: TelegramEmulator, bot: Bot, api_clock: FakeClock
) -> None:
    emu.fail_every(2, retry_after=3)

    await bot.send_message(USER_ID, "one")
    with pytest.raises(TelegramRetryAfter) as throttled:
        await bot.send_message(USER_ID, "two")
    assert throttled.value.retry_after == 3
    api_clock.advance(1)
    with pytest.raises(TelegramRetryAfter) as early:
        await bot.send_message(USER_ID, "two, too early")
    assert early.value.retry_after == 2
    api_clock.advance(2)
    await bot.send_message(USER_ID, "two, after waiting")

    assert [(t.reason, t.chat_id, t.retry_after) for t in emu.throttles] == [
        ("fail_every", USER_ID, 3),
        ("early_retry", USER_ID, 2),
    ]
    assert [(r.method, r.chat_id, r.waited) for r in emu.early_retries] == [
        ("sendMessage", USER_ID, 1.0)
    ]
    assert [m["plain"] for m in emu.messages(USER_ID)] == ["one", "two, after waiting"]


async def test_rate_limits_per_chat_and_global(
    emu: TelegramEmulator, bot: Bot, api_clock: FakeClock
) -> None:
    emu.add_user(8, "Bob")
    emu.rate_limit(per_chat_per_second=2, retry_after=1)

    await bot.send_message(USER_ID, "1")
    await bot.send_message(USER_ID, "2")
    with pytest.raises(TelegramRetryAfter, match="Too Many Requests: retry after 1"):
        await bot.send_message(USER_ID, "3")
    await bot.send_message(8, "other chats are not affected")
    api_clock.advance(1)
    await bot.send_message(USER_ID, "3")

    emu.rate_limit(global_per_second=1, retry_after=2)
    await bot.send_message(8, "a")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(USER_ID, "b")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(8, "c")  # a global flood wait binds every chat
    assert [(r.chat_id, r.throttle.reason) for r in emu.early_retries] == [(8, "global_limit")]


async def test_limits_like_telegram_private_group_and_overall(
    emu: TelegramEmulator, bot: Bot, api_clock: FakeClock
) -> None:
    emu.add_group_chat(GROUP_ID, "Hikers")
    emu.limit_like_telegram()

    for n in range(4):  # a short burst in a private chat passes...
        await bot.send_message(USER_ID, f"burst {n}")
    with pytest.raises(TelegramRetryAfter):  # ...then about one a second
        await bot.send_message(USER_ID, "fifth at once")
    api_clock.advance(1)
    sent = await bot.send_message(USER_ID, "a second later")
    api_clock.advance(1)
    with pytest.raises(TelegramRetryAfter):  # edits count as sends
        for n in range(3):
            await bot.edit_message_text(f"edit {n}", chat_id=USER_ID, message_id=sent.message_id)

    for n in range(20):  # a group chat: 20 in any minute, spread or not
        await bot.send_message(GROUP_ID, f"group {n}")
        api_clock.advance(2)
    with pytest.raises(TelegramRetryAfter) as throttled:
        await bot.send_message(GROUP_ID, "21st within the minute")
    assert throttled.value.retry_after == 20  # when the oldest of the 20 leaves the minute
    api_clock.advance(20)
    await bot.send_message(GROUP_ID, "after the wait")

    reasons = [t.reason for t in emu.throttles]
    assert reasons == ["chat_limit", "chat_limit", "chat_limit"]


async def test_limits_like_telegram_overall_30_a_second(
    emu: TelegramEmulator, bot: Bot, api_clock: FakeClock
) -> None:
    for n in range(31):
        emu.add_user(100 + n, f"User{n}")
    emu.limit_like_telegram()
    for n in range(30):
        await bot.send_message(100 + n, "hi")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(130, "the 31st in one second")
    assert [(t.reason, t.chat_id) for t in emu.throttles] == [("global_limit", None)]
    api_clock.advance(1)
    await bot.send_message(130, "next second")


async def test_edit_with_identical_content_is_not_modified(emu: TelegramEmulator, bot: Bot) -> None:
    markup = keyboard(("Refresh", "refresh"))
    sent = await bot.send_message(USER_ID, "<b>Hi</b>", parse_mode="HTML", reply_markup=markup)

    for text in ("<b>Hi</b>", "<strong>Hi</strong>"):  # same visible text and entities
        with pytest.raises(TelegramBadRequest, match="message is not modified"):
            await bot.edit_message_text(
                text,
                chat_id=USER_ID,
                message_id=sent.message_id,
                parse_mode="HTML",
                reply_markup=markup,
            )
    changed = await bot.edit_message_reply_markup(
        chat_id=USER_ID, message_id=sent.message_id, reply_markup=keyboard(("New", "new"))
    )
    assert isinstance(changed, Message)
    assert changed.edit_date is not None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=USER_ID, message_id=sent.message_id, reply_markup=keyboard(("New", "new"))
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER_ID, message_id=999)
    assert await bot.delete_message(USER_ID, sent.message_id) is True
    assert emu.messages(USER_ID) == []
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER_ID, sent.message_id)


async def test_duplicate_update_is_delivered_twice(emu: TelegramEmulator, bot: Bot) -> None:
    seen: list[int] = []
    both_seen = asyncio.Event()
    dp = Dispatcher()

    @dp.message()
    async def record(message: Message, event_update: Update) -> None:
        seen.append(event_update.update_id)
        if len(seen) == 2:
            both_seen.set()

    update = emu.send_message(USER_ID, "hello")
    emu.push_update(update)
    async with polling(dp, bot):
        await asyncio.wait_for(both_seen.wait(), 5)

    assert seen == [update["update_id"], update["update_id"]]


async def test_get_updates_offset_long_poll_and_filters(emu: TelegramEmulator, bot: Bot) -> None:
    first = emu.send_message(USER_ID, "a")
    second = emu.send_message(USER_ID, "b")

    assert [u.update_id for u in await bot.get_updates(limit=1)] == [first["update_id"]]
    # Unconfirmed updates come again; an offset confirms everything below it.
    assert [u.update_id for u in await bot.get_updates()] == [
        first["update_id"],
        second["update_id"],
    ]
    offset = second["update_id"] + 1
    assert await bot.get_updates(offset=offset) == []

    # A re-pushed duplicate is delivered even though its id was confirmed already.
    emu.push_update(first)
    assert [u.update_id for u in await bot.get_updates(offset=offset)] == [first["update_id"]]
    assert await bot.get_updates(offset=offset) == []

    # Long polling returns as soon as an update arrives.
    poll = asyncio.create_task(bot.get_updates(offset=offset, timeout=10))
    await asyncio.sleep(0.05)
    third = emu.send_message(USER_ID, "c")
    updates = await asyncio.wait_for(poll, 2)
    assert [u.update_id for u in updates] == [third["update_id"]]

    # Update types outside allowed_updates are dropped, as Telegram does.
    emu.push_update({"edited_message": third["message"]})
    offset = third["update_id"] + 1
    assert await bot.get_updates(offset=offset, allowed_updates=["message"]) == []
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_second_poller_terminates_the_first(emu: TelegramEmulator, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)

    await bot.get_updates(timeout=0)

    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 2)


async def test_callback_queries_expire_and_answer_once(
    emu: TelegramEmulator, bot: Bot, api_clock: FakeClock
) -> None:
    await bot.send_message(USER_ID, "menu", reply_markup=keyboard(("Go", "go")))
    message = emu.last_message(USER_ID)
    assert message is not None

    query_id = emu.click(USER_ID, message, "go")["callback_query"]["id"]
    assert await bot.answer_callback_query(query_id, text="done") is True
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)
    late_id = emu.click(USER_ID, message, "go")["callback_query"]["id"]
    api_clock.advance(emu.callback_query_ttl + 0.1)
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query(late_id)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("no-such-query")
    with pytest.raises(LookupError, match="no button with callback_data 'forged'"):
        emu.click(USER_ID, message, "forged")
    forged = emu.forge_click(USER_ID, message, "forged")  # what a modified client can send
    assert "update_id" not in forged
    assert emu.push_update(forged)["callback_query"]["data"] == "forged"
    assert await bot.answer_callback_query(forged["callback_query"]["id"], text="nope") is True
    assert [answer["text"] for answer in emu.callback_answers] == ["done", "nope"]


async def test_commands_are_stored_per_scope_and_language(emu: TelegramEmulator, bot: Bot) -> None:
    scope = BotCommandScopeAllPrivateChats()
    commands = [BotCommand(command="start", description="Начать")]

    assert await bot.set_my_commands(commands, scope=scope, language_code="ru") is True

    assert emu.commands == {
        ("all_private_chats", "ru"): [{"command": "start", "description": "Начать"}]
    }
    stored = await bot.get_my_commands(scope=scope, language_code="ru")
    assert [(c.command, c.description) for c in stored] == [("start", "Начать")]
    assert await bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start!", description="x")])
    await bot.delete_my_commands(scope=scope, language_code="ru")
    assert emu.commands == {}


async def test_group_chats_members_and_other_sends(emu: TelegramEmulator, bot: Bot) -> None:
    emu.add_user(8, "Owner")
    emu.add_user(9, "Moderator")
    emu.add_group_chat(GROUP_ID, "Hikers", admins=[9], creator=8)

    chat = await bot.get_chat(GROUP_ID)
    assert (chat.type, chat.title) == ("supergroup", "Hikers")
    statuses = {
        user_id: (await bot.get_chat_member(GROUP_ID, user_id)).status
        for user_id in (8, 9, USER_ID, BOT_ID)
    }
    assert statuses == {
        8: "creator",
        9: "administrator",
        USER_ID: "member",
        BOT_ID: "administrator",
    }
    admins = await bot.get_chat_administrators(GROUP_ID)
    assert [member.user.id for member in admins] == [8, 9, BOT_ID]

    update = emu.send_message(USER_ID, "who's in?", chat_id=GROUP_ID)
    assert update["message"]["chat"]["type"] == "supergroup"
    assert await bot.send_chat_action(GROUP_ID, "typing") is True
    venue = await bot.send_venue(
        GROUP_ID,
        55.75,
        37.61,
        "Park",
        "Main st. 1",
        reply_to_message_id=update["message"]["message_id"],
    )
    assert venue.venue is not None and venue.venue.title == "Park"
    assert venue.reply_to_message is not None and venue.reply_to_message.text == "who's in?"
    spot = await bot.send_location(USER_ID, 55.75, 37.61)
    assert spot.location is not None and spot.location.latitude == 55.75


async def test_wire_details_and_wait_for(emu: TelegramEmulator, bot: Bot) -> None:
    async with aiohttp.ClientSession() as client:
        async with client.post(f"{emu.base_url}/bot{TOKEN}/noSuchMethod") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
        # Method names are case-insensitive; JSON bodies are accepted too.
        async with client.post(
            f"{emu.base_url}/bot{TOKEN}/SENDMESSAGE", json={"chat_id": USER_ID, "text": "123"}
        ) as response:
            assert (await response.json())["result"]["text"] == "123"

    call = await emu.wait_for("sendmessage")
    assert (call.method, call.params["text"]) == ("sendMessage", "123")
    waiting = asyncio.create_task(
        emu.wait_for(lambda c: c.params.get("text") == "later", since=len(emu.calls))
    )
    await bot.send_message(USER_ID, "later", reply_markup=keyboard(("A", "a")))
    later = await waiting
    assert later.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "A", "callback_data": "a"}]]
    }
    with pytest.raises(TimeoutError, match=r"'sendMessage' within 0.05s .*last calls: .*later"):
        await emu.wait_for("sendMessage", timeout=0.05, since=len(emu.calls))


async def test_webhook_delivery_retries_until_a_2xx(emu: TelegramEmulator, bot: Bot) -> None:
    """setWebhook: updates are POSTed with the secret; a failed POST is delivered again."""
    received: list[tuple[int, str | None]] = []

    async def hook(request: web.Request) -> web.Response:
        update = await request.json()
        received.append(
            (update["update_id"], request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        return web.Response(status=500 if len(received) == 1 else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    emu.WEBHOOK_RETRY = 0.05
    try:
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        assert (await bot.get_webhook_info()).url == f"http://127.0.0.1:{port}/hook"
        with pytest.raises(TelegramConflictError):
            await bot.get_updates()
        update = emu.send_message(USER_ID, "hello")
        for _ in range(100):
            if len(received) >= 2:
                break
            await asyncio.sleep(0.02)
        assert received == [(update["update_id"], "s3cret")] * 2  # 500, then again: 200
        assert (await bot.get_webhook_info()).pending_update_count == 0
        assert [status for _, status in emu.deliveries] == [500, 200]
    finally:
        await bot.delete_webhook()
        await runner.cleanup()

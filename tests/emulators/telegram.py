"""A local emulator of the Telegram Bot API, served over HTTP by aiohttp.

Why an HTTP emulator instead of mocking ``Bot`` methods: the production bot talks to Telegram
through aiogram's ``AiohttpSession``; pointing that real session at this server
(``AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))``) means tests exercise the
same serialisation, response parsing and exception mapping (``TelegramBadRequest``,
``TelegramForbiddenError``, ``TelegramRetryAfter``, ...) as production does.  The emulator
enforces the Telegram rules that break bots in production and that mocks never notice:
HTML entity parsing, the 4096-character limit, 64-byte callback data, "message is not
modified", 403 for users who never started or blocked the bot, expired callback queries and
flood control (429 with ``retry_after``).

Wire format notes (aiogram 3.31 ``AiohttpSession``): every request is a POST to
``{base}/bot{token}/{method}`` with form data (urlencoded, multipart only for uploads).
Strings are sent verbatim; every other value (ints, bools, lists, objects) is JSON-encoded,
so ``chat_id=5`` arrives as ``"5"`` and ``show_alert=False`` as ``"false"``.  Fields whose
prepared value is empty are dropped, so ``send_message(chat, "")`` arrives without ``text``.
Responses must be ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N,
"description": "...", "parameters": {"retry_after": N}}``; aiogram picks the exception class
from the HTTP status and ``parameters``.

Everything is in memory and single-threaded on the test's event loop; handlers do dict lookups
only, so benchmarks can push thousands of updates per second through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

logger = logging.getLogger(__name__)

BOT_ID = 1000
BOT_FIRST_NAME = "Community"
BOT_USERNAME = "community_test_bot"

#: Methods that post or change visible messages: Telegram's flood control applies to these,
#: so the emulator's rate limits and the default ``fail_every`` target them.
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendLocation",
        "sendVenue",
        "sendDocument",
        "editMessageText",
        "editMessageReplyMarkup",
    }
)
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # what a bot may upload
MAX_CAPTION_LENGTH = 1024

#: Telegram's flood limits as ``limit_like_telegram`` enforces them.
TELEGRAM_PER_SECOND = 30
TELEGRAM_PRIVATE_BURST = 4.0
TELEGRAM_GROUP_PER_MINUTE = 20

MAX_TEXT_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_COMMANDS = 100
MAX_COMMAND_DESCRIPTION = 256

QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
GET_UPDATES_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)

# Telegram only sends these update types when allowed_updates names them explicitly.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

# Form fields that are plain strings on the wire and must not be JSON-decoded: a text of "123"
# or "true" has to stay a string.  Every other field is JSON if it parses as JSON.
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "title",
        "address",
        "callback_query_id",
        "inline_message_id",
        "language_code",
        "url",
        "action",
        "business_connection_id",
        "message_effect_id",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
        "description",
        "short_description",
        "name",
        "query",
        "emoji",
        "custom_title",
    }
)

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# A button must carry exactly one action; these are the fields that count as one.
_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")

# A 429 deadline is compared with a little slack: a client that sleeps exactly retry_after
# after receiving the response can be scheduled a hair early by the event loop.
_EARLY_RETRY_TOLERANCE = 0.005

_MESSAGE_TEMPLATE: dict[str, Any] = {
    "text": None,
    "plain": None,
    "parse_mode": None,
    "reply_markup": None,
    "reply_to_message_id": None,
    "edit_date": None,
    "location": None,
    "venue": None,
    "link_preview_options": None,
    "document": None,  # {"file_name", "content" (bytes), "mime_type"} of a sent file
    "caption": None,
}


# --------------------------------------------------------------------------------------------
# Data objects handed to tests


@dataclass(slots=True)
class EmuUser:
    """A Telegram user the emulator knows; their private chat has the same id."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "en"
    #: False until the user pressed Start: the bot may not write to them first (403).
    started: bool = True
    #: The user blocked the bot: every send to their private chat fails with 403.
    blocked: bool = False

    def to_api(self) -> dict[str, Any]:
        """The ``User`` object as Telegram serialises it."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass(slots=True)
class EmuChat:
    """A chat: ``private`` (id = user id) or a group/supergroup (negative id)."""

    id: int
    type: str
    title: str | None = None
    admins: set[int] = field(default_factory=set)
    creator: int | None = None


@dataclass(slots=True)
class Call:
    """One Bot API request as the emulator received it, with its outcome."""

    method: str
    #: Request parameters with JSON-encoded fields (reply_markup, entities, ...) decoded.
    params: dict[str, Any]
    #: ``emu.clock()`` (monotonic by default) when the request arrived.
    time: float
    token: str
    status: int = 200
    result: Any = None
    #: Telegram's error description when ``status != 200``.
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    def __str__(self) -> str:
        outcome = "ok" if self.ok else f"{self.status} {self.error}"
        return f"{self.method}({_abbreviate(self.params)}) -> {outcome}"


@dataclass(frozen=True, slots=True)
class Throttle:
    """A 429 the emulator handed out; ``chat_id`` is None when the whole token was limited."""

    method: str
    token: str
    chat_id: int | str | None
    #: "global_limit", "chat_limit", "fail_every" or "early_retry".
    reason: str
    at: float
    retry_after: int

    @property
    def until(self) -> float:
        return self.at + self.retry_after


@dataclass(frozen=True, slots=True)
class EarlyRetry:
    """A call that arrived before the ``retry_after`` of an earlier 429 in its scope elapsed."""

    method: str
    token: str
    chat_id: int | str | None
    at: float
    throttle: Throttle

    @property
    def waited(self) -> float:
        """Seconds between the 429 and this call (less than ``throttle.retry_after``)."""
        return self.at - self.throttle.at


class TelegramError(Exception):
    """An API failure, rendered as Telegram's JSON error body."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad(description: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {description}")


# --------------------------------------------------------------------------------------------
# Telegram-flavoured HTML


class HtmlParseError(ValueError):
    """An HTML text Telegram would refuse, worded like tdlib's parser."""


_SPACES = frozenset(" \t\r\n\v\f")
_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "code",
        "pre",
        "tg-spoiler",
        "span",
        "blockquote",
        "tg-emoji",
        "tg-time",
    }
)
_TAG_ENTITY = {
    "a": "text_link",
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#x([0-9a-fA-F]*)|#([0-9]*)|([a-zA-Z]*))")
_SPECIAL_RE = re.compile(r"[<&]")


def _utf16_len(text: str) -> int:
    """Entity offsets and lengths are counted in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the character reference at ``text[pos] == '&'`` as tdlib does.

    Only ``&lt; &gt; &amp; &quot;`` and numeric references are known; the ``;`` is optional.
    Returns the character and the position after the reference, or None if it is not one.
    """
    match = _ENTITY_RE.match(text, pos)
    assert match is not None  # the last alternative matches the empty string
    hex_digits, dec_digits, name = match.groups()
    if name is not None:
        char = _NAMED_ENTITIES.get(name)
        if char is None:
            return None
    else:
        digits, base = (hex_digits, 16) if hex_digits is not None else (dec_digits, 10)
        if not digits or match.end() - pos >= 10:
            return None
        code = int(digits, base)
        if code == 0 or code >= 0x10FFFF:
            return None
        char = chr(code)
    end = match.end()
    if end < len(text) and text[end] == ";":
        end += 1
    return char, end


def _unescape_attribute(value: str) -> str:
    """Attribute values decode known references and keep any other ``&`` literally."""
    if "&" not in value:
        return value
    parts: list[str] = []
    pos = 0
    while (amp := value.find("&", pos)) >= 0:
        parts.append(value[pos:amp])
        decoded = _decode_entity(value, amp)
        if decoded is None:
            parts.append("&")
            pos = amp + 1
        else:
            parts.append(decoded[0])
            pos = decoded[1]
    parts.append(value[pos:])
    return "".join(parts)


@dataclass(slots=True)
class _OpenTag:
    name: str
    attrs: dict[str, str]
    utf16_offset: int
    char_offset: int


class _HtmlParser:
    """A port of tdlib's ``parse_html``: the same accepted tags and the same error texts."""

    def __init__(self, text: str, strict_ampersand: bool) -> None:
        self.text = text
        self.strict_ampersand = strict_ampersand
        self.out: list[str] = []
        self.chars = 0
        self.utf16 = 0
        self.entities: list[dict[str, Any]] = []
        self.stack: list[_OpenTag] = []

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        text = self.text
        pos = 0
        while (match := _SPECIAL_RE.search(text, pos)) is not None:
            start = match.start()
            self._emit(text[pos:start])
            pos = self._reference(start) if text[start] == "&" else self._tag(start)
        self._emit(text[pos:])
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)  # only <pre><code class=...> keeps a language
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return "".join(self.out), self.entities

    def _emit(self, chunk: str) -> None:
        if chunk:
            self.out.append(chunk)
            self.chars += len(chunk)
            self.utf16 += _utf16_len(chunk)

    def _offset(self, pos: int) -> int:
        return len(self.text[:pos].encode())

    def _reference(self, pos: int) -> int:
        decoded = _decode_entity(self.text, pos)
        if decoded is not None:
            self._emit(decoded[0])
            return decoded[1]
        if self.strict_ampersand:
            raise HtmlParseError(
                f'Unescaped "&" at byte offset {self._offset(pos)} '
                "(emulator strict mode: Telegram would show it literally; escape it as &amp;)"
            )
        self._emit("&")
        return pos + 1

    def _skip_spaces(self, pos: int) -> int:
        text, size = self.text, len(self.text)
        while pos < size and text[pos] in _SPACES:
            pos += 1
        return pos

    def _tag(self, begin: int) -> int:
        text, size = self.text, len(self.text)
        if begin + 1 < size and text[begin + 1] == "/":
            return self._end_tag(begin)
        pos = begin + 1
        while pos < size and text[pos] not in _SPACES and text[pos] != ">":
            pos += 1
        if pos >= size:
            raise HtmlParseError(f"Unclosed start tag at byte offset {self._offset(begin)}")
        name = text[begin + 1 : pos].lower()
        if name not in _SUPPORTED_TAGS:
            raise HtmlParseError(
                f'Unsupported start tag "{name}" at byte offset {self._offset(begin)}'
            )
        attrs: dict[str, str] = {}
        while True:
            pos = self._skip_spaces(pos)
            if pos >= size:
                raise HtmlParseError(
                    f'Unclosed start tag "{name}" at byte offset {self._offset(begin)}'
                )
            if text[pos] == ">":
                break
            attr_begin = pos
            while pos < size and text[pos] not in _SPACES and text[pos] not in "=>":
                pos += 1
            attr = text[attr_begin:pos].lower()
            if not attr:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {self._offset(begin)}'
                )
            pos = self._skip_spaces(pos)
            if pos >= size or text[pos] != "=":
                attrs[attr] = ""  # a flag such as <blockquote expandable>
                continue
            pos = self._skip_spaces(pos + 1)
            if pos >= size:
                raise HtmlParseError(
                    f'Unclosed start tag "{name}" at byte offset {self._offset(begin)}'
                )
            if text[pos] in "'\"":
                closing = text.find(text[pos], pos + 1)
                if closing < 0:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {self._offset(begin)}")
                attrs[attr] = _unescape_attribute(text[pos + 1 : closing])
                pos = closing + 1
            else:
                token_begin = pos
                while pos < size and (text[pos].isalnum() or text[pos] in ".-"):
                    pos += 1
                if pos < size and text[pos] not in _SPACES and text[pos] != ">":
                    raise HtmlParseError(
                        f"Unexpected end of name token at byte offset {self._offset(token_begin)}"
                    )
                attrs[attr] = text[token_begin:pos].lower()
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self._offset(begin)}'
            )
        self.stack.append(_OpenTag(name, attrs, self.utf16, self.chars))
        return pos + 1

    def _end_tag(self, begin: int) -> int:
        text, size = self.text, len(self.text)
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {self._offset(begin)}")
        pos = begin + 2
        while pos < size and text[pos] not in _SPACES and text[pos] != ">":
            pos += 1
        end_name = text[begin + 2 : pos].lower()
        pos = self._skip_spaces(pos)
        if pos >= size or text[pos] != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {self._offset(begin)}")
        tag = self.stack.pop()
        if end_name and end_name != tag.name:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {self._offset(begin)}, "
                f'expected "</{tag.name}>", found "</{end_name}>"'
            )
        if self.utf16 > tag.utf16_offset:
            self._add_entity(tag)
        return pos + 1

    def _add_entity(self, tag: _OpenTag) -> None:
        offset, length = tag.utf16_offset, self.utf16 - tag.utf16_offset
        entity: dict[str, Any] = {"type": _TAG_ENTITY[tag.name], "offset": offset, "length": length}
        attrs = tag.attrs
        if tag.name == "a":
            entity["url"] = attrs.get("href") or "".join(self.out)[tag.char_offset :]
        elif tag.name == "code":
            language = attrs.get("class", "")
            if language.startswith("language-"):
                entity["language"] = language.removeprefix("language-")
        elif tag.name == "pre":
            last = self.entities[-1] if self.entities else None
            if (
                last is not None
                and last["type"] == "code"
                and (last["offset"], last["length"]) == (offset, length)
                and last.get("language")
            ):
                # <pre><code class="language-x">...</code></pre> is one pre entity with language
                entity["language"] = last["language"]
                self.entities.pop()
        elif tag.name == "blockquote" and "expandable" in attrs:
            entity["type"] = "expandable_blockquote"
        elif tag.name == "tg-emoji":
            if not attrs.get("emoji-id"):
                return
            entity["custom_emoji_id"] = attrs["emoji-id"]
        elif tag.name == "tg-time":
            if not attrs.get("unix", "").isdigit():
                return
            entity["unix_time"] = int(attrs["unix"])
            if attrs.get("format"):
                entity["date_time_format"] = attrs["format"]
        self.entities.append(entity)


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Turn ``parse_mode=HTML`` text into (what the user sees, message entities).

    Follows tdlib: tags b/strong, i/em, u/ins, s/strike/del, a, code, pre, tg-spoiler,
    span class="tg-spoiler", blockquote [expandable], tg-emoji and tg-time; a ``<`` always
    starts a tag; tags must nest properly; ``&lt; &gt; &amp; &quot;`` and numeric references are
    decoded.  Telegram shows any other ``&`` literally; with ``strict_ampersand`` (the
    emulator's default) it is an error instead, because it means the bot forgot to escape
    user text, which also breaks as soon as that text contains ``<``.
    """
    if "<" not in text and "&" not in text:
        return text, []
    return _HtmlParser(text, strict_ampersand).run()


def _strip_text(plain: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims surrounding whitespace from message text and clips entities to match."""
    stripped = plain.strip()
    if len(stripped) == len(plain) or not entities:
        return stripped, entities
    shift = _utf16_len(plain[: len(plain) - len(plain.lstrip())])
    limit = _utf16_len(stripped)
    clipped = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            clipped.append({**entity, "offset": start, "length": end - start})
    return stripped, clipped


# --------------------------------------------------------------------------------------------
# Helpers


def _decode_field(key: str, value: str) -> Any:
    if key in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Collect parameters the way the Bot API accepts them: query string, form or JSON body."""
    params: dict[str, Any] = {
        key: _decode_field(key, value) for key, value in request.query.items()
    }
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise _bad("can't parse JSON body") from None
        if not isinstance(body, dict):
            raise _bad("JSON body must be an object")
        params.update(body)
        return params
    for key, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            params[key] = {"file": value.filename, "content": value.file.read()}
        else:
            text = value if isinstance(value, str) else bytes(value).decode()
            params[key] = _decode_field(key, text)
    return params


def _abbreviate(params: dict[str, Any], width: int = 60) -> str:
    parts = []
    for key, value in params.items():
        shown = repr(value)
        parts.append(f"{key}={shown[: width - 3]}..." if len(shown) > width else f"{key}={shown}")
    return ", ".join(parts)


def _inline_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """Only inline keyboards belong to a message; reply keyboards live in the client."""
    return markup if markup is not None and "inline_keyboard" in markup else None


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _bad(f"wrong parameter {name}: {value!r}")


def _as_float(value: Any, name: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise _bad(f"wrong {name}")


def _is_group(chat_id: int | str) -> bool:
    """Group, supergroup and channel ids are negative (or @usernames); private chats positive."""
    try:
        return int(chat_id) < 0
    except ValueError:
        return True


def _scope_key(scope: dict[str, Any] | None) -> str:
    """``commands`` keys: "default", "all_private_chats", "chat:-100", "chat_member:-100:7"."""
    if not scope:
        return "default"
    parts = [str(scope.get("type", "default"))]
    parts.extend(str(scope[key]) for key in ("chat_id", "user_id") if key in scope)
    return ":".join(parts)


@dataclass(slots=True)
class _Pending:
    """An update waiting in the queue until a getUpdates offset confirms it."""

    update: dict[str, Any]
    update_id: int
    kind: str
    delivered: bool = False


@dataclass(slots=True)
class _Query:
    created: float
    user_id: int
    answered: bool = False
    fetched: float | None = None  # when getUpdates first handed it to the bot


@dataclass(slots=True)
class _Poll:
    terminated: bool = False


# --------------------------------------------------------------------------------------------
# The emulator


class TelegramEmulator:
    """An in-memory Telegram Bot API server for one bot (any token is accepted).

    Use ``async with TelegramEmulator() as emu:`` (or ``await emu.start()`` /
    ``await emu.stop()``) and point aiogram at ``emu.base_url``.  Tests drive it from the user's
    side (``add_user``, ``send_message``, ``click``, ``push_update``) and inspect what the bot
    did (``calls``, ``wait_for``, ``messages``, ``callback_answers``, ``commands``).

    ``clock`` drives every duration the emulator measures (call times, rate-limit windows,
    ``retry_after`` deadlines, callback query expiry), so tests can pass a fake clock instead
    of sleeping.  Message ``date`` fields use wall-clock time as Telegram does.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
        callback_query_ttl: float = 15.0,
        strict_ampersand: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.clock = clock
        #: Seconds after a click during which answerCallbackQuery is still accepted.
        self.callback_query_ttl = callback_query_ttl
        #: Reject a bare "&" in HTML (Telegram shows it literally); see ``parse_html``.
        self.strict_ampersand = strict_ampersand
        self.base_url = ""

        self.users: dict[int, EmuUser] = {}
        self.chats: dict[int, EmuChat] = {}
        self.tokens: set[str] = set()
        self.calls: list[Call] = []
        self.callback_answers: list[dict[str, Any]] = []
        #: setMyCommands store: ``(scope key, language_code or "") -> [BotCommand dicts]``.
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.throttles: list[Throttle] = []
        self.early_retries: list[EarlyRetry] = []

        self._history: dict[int, dict[int, dict[str, Any]]] = {}
        self._last_message_id: dict[int, int] = {}
        self._queue: deque[_Pending] = deque()
        self._last_update_id = 0
        self._wakeup = asyncio.Event()
        self._polls: dict[str, _Poll] = {}
        self._allowed_updates: dict[str, frozenset[str]] = {}
        self._queries: dict[str, _Query] = {}
        self._query_ids = itertools.count(1)
        self._waiters: list[tuple[Callable[[Call], bool], asyncio.Future[Call]]] = []
        self._runner: web.AppRunner | None = None
        self._closing = False
        #: setWebhook: where updates are POSTed (getUpdates then answers 409), and its secret.
        self.webhook_url = ""
        self._webhook_secret: str | None = None
        self._deliverer: asyncio.Task[None] | None = None
        #: Webhook deliveries: (update_id, HTTP status or 0 for no answer) in the order made.
        self.deliveries: list[tuple[int, int]] = []

        self._penalties: dict[tuple[str, int | str | None], Throttle] = {}
        self._global_limit: int | None = None
        self._chat_limit: int | None = None
        self._limit_retry_after = 1
        self._global_windows: dict[str, deque[float]] = {}
        self._chat_windows: dict[tuple[str, int | str], deque[float]] = {}
        self._like_telegram = False
        self._buckets: dict[tuple[str, int | str], tuple[float, float]] = {}
        self._fail_every: int | None = None
        self._fail_retry_after = 1
        self._fail_methods: frozenset[str] = SEND_METHODS
        self._fail_count = 0

        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": self._get_me,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "close": self._trivial,
            "logOut": self._trivial,
            "sendMessage": self._send_message,
            "sendLocation": self._send_location,
            "sendVenue": self._send_venue,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "sendChatAction": self._send_chat_action,
        }
        # Telegram method names are case-insensitive; calls are recorded under the canonical one.
        self._method_names = {name.lower(): name for name in [*self._handlers, "getUpdates"]}

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on ``host`` (a free port unless ``port`` was given) and set ``base_url``."""
        if self._runner is not None:
            raise RuntimeError("TelegramEmulator is already running")
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # handler_cancellation: a long poll whose client went away (stop_polling cancels it)
        # ends at once instead of lingering until its timeout next to the client's next poll.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port).start()
        self._runner = runner
        self._wakeup = asyncio.Event()
        port = runner.addresses[0][1]
        self.base_url = f"http://{self.host}:{port}"

    async def stop(self) -> None:
        """Release pending long polls and shut the server down; the state is kept."""
        if self._runner is None:
            return
        self._closing = True
        self._wake_pollers()
        if self._deliverer is not None:
            self._deliverer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._deliverer
            self._deliverer = None
        try:
            await self._runner.cleanup()
        finally:
            self._runner = None
            self._closing = False

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---- world setup -----------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        language_code: str | None = "en",
        started: bool = True,
    ) -> EmuUser:
        """Register a user and their private chat (chat id = user id)."""
        if user_id <= 0 or user_id == BOT_ID:
            raise ValueError(f"user ids are positive and not the bot's {BOT_ID}, got {user_id}")
        user = EmuUser(user_id, first_name, username, language_code, started)
        self.users[user_id] = user
        self.chats[user_id] = EmuChat(user_id, "private")
        return user

    def add_group_chat(
        self,
        chat_id: int,
        title: str,
        admins: Iterable[int] = (),
        creator: int | None = None,
        chat_type: str | None = None,
    ) -> EmuChat:
        """Register a group; ids at or below -10**12 are supergroups unless ``chat_type`` says.

        ``creator`` gets status "creator", ``admins`` "administrator", everyone else "member";
        the bot itself is an administrator.
        """
        if chat_id >= 0:
            raise ValueError(f"group chat ids are negative, got {chat_id}")
        kind = chat_type or ("supergroup" if chat_id <= -1_000_000_000_000 else "group")
        chat = EmuChat(chat_id, kind, title, set(admins), creator)
        self.chats[chat_id] = chat
        return chat

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to them now fail with 403."""
        self._user(user_id).blocked = True

    def unblock(self, user_id: int) -> None:
        self._user(user_id).blocked = False

    # ---- incoming updates ------------------------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update for getUpdates and return it (with its ``update_id``).

        An update that already has an ``update_id`` is queued as is, so pushing the same update
        twice reproduces Telegram's duplicate delivery; it is delivered even if an earlier
        offset already confirmed that id.
        """
        if "update_id" in update:
            update_id = update["update_id"]
            self._last_update_id = max(self._last_update_id, update_id)
        else:
            self._last_update_id += 1
            update_id = self._last_update_id
            update = {"update_id": update_id, **update}
        kind = next((key for key in update if key != "update_id"), "")
        self._queue.append(_Pending(update, update_id, kind))
        self._wake_pollers()
        return update

    def send_message(
        self,
        user: EmuUser | int,
        text: str | None = None,
        chat_id: int | None = None,
        location: tuple[float, float] | None = None,
        reply_to: dict[str, Any] | int | None = None,
    ) -> dict[str, Any]:
        """The user writes to the bot (private chat by default, or the group ``chat_id``).

        Writing in the private chat means the user started the bot and unblocked it.
        ``location`` is ``(latitude, longitude)``; ``reply_to`` a stored message or its id.
        """
        sender = self._user(user)
        chat = self.chats[sender.id] if chat_id is None else self.chats.get(chat_id)
        if chat is None:
            raise KeyError(f"unknown chat {chat_id}; add_group_chat() it first")
        if chat.type == "private":
            sender.started = True
            sender.blocked = False
        fields: dict[str, Any] = {"text": text, "plain": text}
        if text is not None and (command := _COMMAND_RE.match(text)):
            fields["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(command.group())}
            ]
        if location is not None:
            fields["location"] = {"latitude": location[0], "longitude": location[1]}
        if reply_to is not None:
            reply_id = reply_to if isinstance(reply_to, int) else reply_to["message_id"]
            if reply_id not in self._history.get(chat.id, {}):
                raise KeyError(f"message {reply_id} is not in chat {chat.id}")
            fields["reply_to_message_id"] = reply_id
        message = self._store(chat.id, sender.id, **fields)
        return self.push_update({"message": self._wire(message)})

    def click(self, user: EmuUser | int, message: dict[str, Any], data: str) -> dict[str, Any]:
        """The user presses the inline button with ``callback_data == data`` on ``message``.

        The button must exist on the message's current state, since only visible buttons can
        be pressed; ``forge_click`` builds clicks that no honest client could send.
        """
        current = self._history.get(message["chat_id"], {}).get(message["message_id"])
        if current is None:
            raise LookupError(f"message {message['message_id']} no longer exists")
        if data not in {value for _, value in self.buttons(current)}:
            raise LookupError(
                f"message {current['message_id']} has no button with callback_data {data!r}; "
                f"buttons: {self.buttons(current)}"
            )
        return self.push_update(self.forge_click(user, current, data))

    def forge_click(
        self, user: EmuUser | int, message: dict[str, Any], data: str
    ) -> dict[str, Any]:
        """A callback_query update carrying any ``data``, not yet queued (see ``push_update``).

        Telegram passes on whatever callback_data a modified client or an outdated message
        sends, so bots must cope with it.  The query is registered, so the bot can answer it.
        The message is its current state if it still exists, else the given snapshot.
        """
        sender = self._user(user)
        current = self._history.get(message["chat_id"], {}).get(message["message_id"], message)
        query_id = f"{sender.id}-{next(self._query_ids)}"
        self._queries[query_id] = _Query(self.clock(), sender.id)
        return {
            "callback_query": {
                "id": query_id,
                "from": sender.to_api(),
                "message": self._wire(current),
                "chat_instance": f"ci{current['chat_id']}",
                "data": data,
            }
        }

    # ---- faults ----------------------------------------------------------------------------

    def rate_limit(
        self,
        global_per_second: int | None = None,
        per_chat_per_second: int | None = None,
        retry_after: int = 1,
    ) -> None:
        """Answer send-type calls over these sliding one-second windows with 429.

        Limits count per token (global) and per (token, chat); None disables one.  Calling it
        again replaces the limits and forgets the windows.
        """
        self._global_limit = global_per_second
        self._chat_limit = per_chat_per_second
        self._limit_retry_after = retry_after
        self._like_telegram = False
        self._global_windows.clear()
        self._chat_windows.clear()

    def limit_like_telegram(self) -> None:
        """Refuse with 429 what Telegram's flood control would (edits count as sends):

        * 30 send-type calls per token in any second;
        * a private chat: a sustained 1 per second, with a short burst of 4 (Telegram lets a
          few quick replies through and then limits to about one a second);
        * a group chat (negative id): 20 in any minute.

        Windows are compared with ``_EARLY_RETRY_TOLERANCE`` of slack, as for ``retry_after``.
        Replaces ``rate_limit``'s limits.
        """
        self.rate_limit()
        self._like_telegram = True
        self._buckets.clear()

    def fail_every(
        self, n: int | None, retry_after: int = 1, methods: Iterable[str] | None = None
    ) -> None:
        """Answer every ``n``-th call of ``methods`` (default: ``SEND_METHODS``) with 429.

        The 429 binds the call's chat (or the whole token for chat-less calls) for
        ``retry_after`` seconds, like a real flood wait.  ``n=None`` switches it off.
        """
        self._fail_every = n or None
        self._fail_retry_after = retry_after
        names = SEND_METHODS if methods is None else methods
        self._fail_methods = frozenset(self._method_names.get(m.lower(), m) for m in names)
        self._fail_count = 0

    # ---- inspection ------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Updates not yet confirmed (by a getUpdates offset or a webhook's 2xx)."""
        return len(self._queue)

    def calls_of(self, method: str) -> list[Call]:
        name = method.lower()
        return [call for call in self.calls if call.method.lower() == name]

    def messages(self, chat_id: int, include_incoming: bool = False) -> list[dict[str, Any]]:
        """The bot's messages in the chat, oldest first, in their state after edits.

        Each is a snapshot dict (edits store a new dict): ``message_id``, ``chat_id``, ``date``,
        ``from_id``, ``outgoing``, ``text`` (as sent, e.g. with HTML tags), ``plain`` (what the
        user sees), ``parse_mode``, ``entities``, ``reply_markup``, ``reply_to_message_id``,
        ``edit_date``, ``location``, ``venue``, ``link_preview_options``.  Deleted messages are
        gone.  ``include_incoming`` adds the users' messages.
        """
        history = self._history.get(chat_id, {})
        return [msg for msg in history.values() if include_incoming or msg["outgoing"]]

    def last_message(self, chat_id: int) -> dict[str, Any] | None:
        """The bot's most recent message in the chat, or None."""
        history = self._history.get(chat_id, {})
        return next((msg for msg in reversed(history.values()) if msg["outgoing"]), None)

    @staticmethod
    def buttons(message: dict[str, Any]) -> list[tuple[str, str | None]]:
        """Inline buttons of a message, row by row: ``(text, callback_data or url)``."""
        markup = _inline_markup(message.get("reply_markup")) or {"inline_keyboard": []}
        return [
            (button.get("text", ""), button.get("callback_data", button.get("url")))
            for row in markup["inline_keyboard"]
            for button in row
        ]

    def find_button(self, message: dict[str, Any], text: str) -> tuple[str, str | None]:
        """The first inline button whose text contains ``text``."""
        buttons = self.buttons(message)
        for button in buttons:
            if text in button[0]:
                return button
        raise LookupError(f"no button containing {text!r}; buttons: {buttons}")

    async def wait_for(
        self,
        what: str | Callable[[Call], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - mirrors asyncio.wait_for, reads well in tests
        *,
        since: int = 0,
    ) -> Call:
        """The first call (from index ``since`` of ``calls`` on) matching ``what``.

        ``what`` is a method name (case-insensitive) or a predicate on ``Call``.  Calls made
        before waiting started count, so pass ``since=len(emu.calls)`` to wait for a new one.
        """
        if isinstance(what, str):
            name = what.lower()
            described = repr(what)

            def predicate(call: Call) -> bool:
                return call.method.lower() == name
        else:
            predicate = what
            described = getattr(what, "__qualname__", repr(what))
        for call in itertools.islice(self.calls, since, None):
            if predicate(call):
                return call
        future: asyncio.Future[Call] = asyncio.get_running_loop().create_future()
        waiter = (predicate, future)
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            recent = itertools.islice(
                (call for call in reversed(self.calls) if call.method != "getUpdates"), 5
            )
            raise TimeoutError(
                f"no call matching {described} within {timeout}s (since call #{since}); "
                f"last calls: {[str(call) for call in recent][::-1] or 'none'}"
            ) from None
        finally:
            self._waiters.remove(waiter)

    # ---- HTTP plumbing ---------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        requested = request.match_info["method"]
        method = self._method_names.get(requested.lower(), requested)
        call = Call(method, {}, self.clock(), token)
        self.tokens.add(token)
        try:
            call.params = await _read_params(request)
            if method == "getUpdates":
                result = await self._get_updates(call)
            else:
                handler = self._handlers.get(method)
                if handler is None:
                    raise TelegramError(404, "Not Found")
                self._apply_limits(call)
                result = handler(call.params)
            call.result = result
            status, body = 200, {"ok": True, "result": result}
        except TelegramError as exc:
            call.status, call.error = exc.code, exc.description
            status, body = exc.code, exc.body()
        except Exception as exc:
            logger.exception("TelegramEmulator failed on %s", method)
            description = f"Internal Server Error: emulator failure: {exc!r}"
            call.status, call.error = 500, description
            status, body = 500, {"ok": False, "error_code": 500, "description": description}
        self._record(call)
        return web.Response(text=json.dumps(body), status=status, content_type="application/json")

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        for predicate, future in self._waiters:
            if future.done():
                continue
            try:
                matched = predicate(call)
            except Exception as exc:
                future.set_exception(exc)
            else:
                if matched:
                    future.set_result(call)

    # ---- flood control ---------------------------------------------------------------------

    def _apply_limits(self, call: Call) -> None:
        """Raise 429 for calls inside a flood wait, injected failures or over a rate limit."""
        method = call.method
        limited = method in SEND_METHODS
        fail_every = self._fail_every if method in self._fail_methods else None
        if not limited and fail_every is None:
            return
        now, token = call.time, call.token
        chat_id = call.params.get("chat_id")
        scopes = [(token, None)] if chat_id is None else [(token, None), (token, chat_id)]
        for scope in scopes:
            throttle = self._penalties.get(scope)
            if throttle is None:
                continue
            if now + _EARLY_RETRY_TOLERANCE < throttle.until:
                self.early_retries.append(EarlyRetry(method, token, chat_id, now, throttle))
                remaining = max(1, math.ceil(throttle.until - now))
                raise self._throttle(call, scope[1], "early_retry", remaining, penalize=False)
            del self._penalties[scope]
        if fail_every is not None:
            self._fail_count += 1
            if self._fail_count % fail_every == 0:
                raise self._throttle(call, chat_id, "fail_every", self._fail_retry_after)
        if limited:
            self._check_windows(call, chat_id)

    def _check_windows(self, call: Call, chat_id: int | str | None) -> None:
        if self._like_telegram:
            self._check_like_telegram(call, chat_id)
            return
        now = call.time
        cutoff = now - 1.0
        windows: list[deque[float]] = []
        if self._global_limit is not None:
            window = self._global_windows.setdefault(call.token, deque())
            while window and window[0] <= cutoff:
                window.popleft()
            if len(window) >= self._global_limit:
                raise self._throttle(call, None, "global_limit", self._limit_retry_after)
            windows.append(window)
        if self._chat_limit is not None and chat_id is not None:
            window = self._chat_windows.setdefault((call.token, chat_id), deque())
            while window and window[0] <= cutoff:
                window.popleft()
            if len(window) >= self._chat_limit:
                raise self._throttle(call, chat_id, "chat_limit", self._limit_retry_after)
            windows.append(window)
        for window in windows:
            window.append(now)

    def _check_like_telegram(self, call: Call, chat_id: int | str | None) -> None:
        now, slack = call.time, _EARLY_RETRY_TOLERANCE
        overall = self._global_windows.setdefault(call.token, deque())
        while overall and overall[0] <= now - 1.0 + slack:
            overall.popleft()
        if len(overall) >= TELEGRAM_PER_SECOND:
            raise self._throttle(call, None, "global_limit", 1)
        if chat_id is None:
            overall.append(now)
            return
        key = (call.token, chat_id)
        if _is_group(chat_id):
            window = self._chat_windows.setdefault(key, deque())
            while window and window[0] <= now - 60.0 + slack:
                window.popleft()
            if len(window) >= TELEGRAM_GROUP_PER_MINUTE:
                raise self._throttle(call, chat_id, "chat_limit", math.ceil(window[0] + 60 - now))
            window.append(now)
        else:
            tokens, stamp = self._buckets.get(key, (TELEGRAM_PRIVATE_BURST, now))
            tokens = min(TELEGRAM_PRIVATE_BURST, tokens + (now - stamp))
            if tokens + slack < 1:
                raise self._throttle(call, chat_id, "chat_limit", 1)
            self._buckets[key] = (tokens - 1, now)
        overall.append(now)

    def _throttle(
        self,
        call: Call,
        chat_id: int | str | None,
        reason: str,
        retry_after: int,
        penalize: bool = True,
    ) -> TelegramError:
        throttle = Throttle(call.method, call.token, chat_id, reason, call.time, retry_after)
        self.throttles.append(throttle)
        if penalize:
            self._penalties[(call.token, chat_id)] = throttle
        return TelegramError(
            429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
        )

    # ---- getUpdates ------------------------------------------------------------------------

    def _wake_pollers(self) -> None:
        event, self._wakeup = self._wakeup, asyncio.Event()
        event.set()

    async def _get_updates(self, call: Call) -> list[dict[str, Any]]:
        params = call.params
        offset = params.get("offset")
        limit = min(max(_as_int(params.get("limit", 100), "limit"), 1), 100)
        timeout = _as_int(params.get("timeout", 0), "timeout")
        if (allowed := params.get("allowed_updates")) is not None:
            if allowed:
                self._allowed_updates[call.token] = frozenset(allowed)
            else:
                self._allowed_updates.pop(call.token, None)
        allowed_set = self._allowed_updates.get(call.token)

        if self.webhook_url:
            raise TelegramError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        # Like Telegram, a newer poll for the same token ends the older one with 409.
        poll = _Poll()
        previous, self._polls[call.token] = self._polls.get(call.token), poll
        if previous is not None:
            previous.terminated = True
            self._wake_pollers()
        try:
            if offset is not None:
                self._confirm(_as_int(offset, "offset"))
            loop = asyncio.get_running_loop()
            deadline = loop.time() + max(timeout, 0)
            while True:
                if poll.terminated:
                    raise TelegramError(409, GET_UPDATES_CONFLICT)
                batch = self._take(limit, allowed_set)
                remaining = deadline - loop.time()
                if batch or self._closing or remaining <= 0:
                    return batch
                event = self._wakeup
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await event.wait()
        finally:
            if self._polls.get(call.token) is poll:
                del self._polls[call.token]

    def _confirm(self, offset: int) -> None:
        """Forget updates confirmed by ``offset``.

        Only updates already handed out are confirmed, which is Telegram's behaviour for
        monotonically increasing ids and lets a re-pushed duplicate through once.
        """
        queue = self._queue
        if offset < 0:
            while len(queue) > -offset:
                queue.popleft()
            return
        while queue and queue[0].delivered and queue[0].update_id < offset:
            queue.popleft()

    def _take(self, limit: int, allowed: frozenset[str] | None) -> list[dict[str, Any]]:
        """The first ``limit`` unconfirmed updates; types the bot did not ask for are dropped."""
        queue = self._queue
        batch: list[dict[str, Any]] = []
        index = 0
        while index < len(queue) and len(batch) < limit:
            pending = queue[index]
            wanted = (
                pending.kind not in _OPT_IN_UPDATES if allowed is None else pending.kind in allowed
            )
            if wanted:
                if not pending.delivered and pending.kind == "callback_query":
                    query = self._queries.get(pending.update["callback_query"]["id"])
                    if query is not None:
                        query.fetched = self.clock()
                pending.delivered = True
                batch.append(pending.update)
                index += 1
            else:
                del queue[index]
        return batch

    # ---- world lookups ---------------------------------------------------------------------

    def _user(self, user: EmuUser | int) -> EmuUser:
        user_id = user if isinstance(user, int) else user.id
        try:
            return self.users[user_id]
        except KeyError:
            raise KeyError(f"unknown user {user_id}; add_user() them first") from None

    def _chat(self, chat_id: Any) -> EmuChat:
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if isinstance(chat_id, str):
            with contextlib.suppress(ValueError):
                chat_id = int(chat_id)
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise _bad("chat not found")
        return chat

    def _writable_chat(self, params: dict[str, Any]) -> EmuChat:
        """The target chat, refusing private chats the bot may not write to."""
        chat = self._chat(params.get("chat_id"))
        if chat.type == "private":
            user = self.users[chat.id]
            if user.blocked:
                raise TelegramError(403, "Forbidden: bot was blocked by the user")
            if not user.started:
                raise TelegramError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _store(self, chat_id: int, from_id: int, **fields: Any) -> dict[str, Any]:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        message = {
            "message_id": message_id,
            "chat_id": chat_id,
            "date": int(time.time()),
            "from_id": from_id,
            "outgoing": from_id == BOT_ID,
            **_MESSAGE_TEMPLATE,
            "entities": [],
            **fields,
        }
        self._history.setdefault(chat_id, {})[message_id] = message
        return message

    def _chat_api(self, chat_id: int) -> dict[str, Any]:
        chat = self.chats[chat_id]
        if chat.type != "private":
            return {"id": chat.id, "type": chat.type, "title": chat.title}
        user = self.users[chat_id]
        data: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": user.first_name}
        if user.username:
            data["username"] = user.username
        return data

    @staticmethod
    def _bot_api() -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
        }

    def _wire(self, message: dict[str, Any], nested: bool = False) -> dict[str, Any]:
        """The ``Message`` object Telegram would return for a stored message."""
        sender = self._bot_api() if message["outgoing"] else self.users[message["from_id"]].to_api()
        wire: dict[str, Any] = {
            "message_id": message["message_id"],
            "from": sender,
            "chat": self._chat_api(message["chat_id"]),
            "date": message["date"],
        }
        if message["edit_date"] is not None:
            wire["edit_date"] = message["edit_date"]
        if message["plain"] is not None:
            wire["text"] = message["plain"]
            if message["entities"]:
                wire["entities"] = message["entities"]
        for key in ("location", "venue", "link_preview_options", "caption"):
            if message[key] is not None:
                wire[key] = message[key]
        if message["document"] is not None:
            number = f"doc{message['chat_id']}_{message['message_id']}"
            wire["document"] = {
                "file_id": number,
                "file_unique_id": number,
                "file_name": message["document"]["file_name"],
                "file_size": len(message["document"]["content"]),
            }
        if (markup := _inline_markup(message["reply_markup"])) is not None:
            wire["reply_markup"] = markup
        if not nested and message["reply_to_message_id"] is not None:
            replied = self._history[message["chat_id"]].get(message["reply_to_message_id"])
            if replied is not None:
                wire["reply_to_message"] = self._wire(replied, nested=True)
        return wire

    # ---- validation ------------------------------------------------------------------------

    def _text(self, params: dict[str, Any]) -> dict[str, Any]:
        """Validate text + parse_mode like Telegram; returns the stored text fields."""
        text = params.get("text")
        if not text:
            raise _bad("message text is empty")
        parse_mode = params.get("parse_mode") or None
        mode = (parse_mode or "none").lower()
        if mode == "html":
            try:
                plain, entities = parse_html(text, strict_ampersand=self.strict_ampersand)
            except HtmlParseError as exc:
                raise _bad(f"can't parse entities: {exc}") from None
        elif mode == "none":
            plain, entities = text, list(params.get("entities") or [])
        elif mode in ("markdown", "markdownv2"):
            plain, entities = text, []  # accepted but not parsed by the emulator
        else:
            raise _bad("unsupported parse_mode")
        plain, entities = _strip_text(plain, entities)
        if not plain:
            raise _bad("message text is empty")
        if len(plain) > MAX_TEXT_LENGTH:
            raise _bad("message is too long")
        return {"text": text, "plain": plain, "entities": entities, "parse_mode": parse_mode}

    @staticmethod
    def _markup(markup: Any, chat: EmuChat) -> dict[str, Any] | None:
        """Validate reply_markup; inline keyboards get Telegram's button checks."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad(
                'can\'t parse inline keyboard: Field "inline_keyboard" must be an Array of Arrays'
            )
        for button in itertools.chain.from_iterable(rows):
            if not isinstance(button, dict):
                raise _bad(
                    "can't parse InlineKeyboardButton: InlineKeyboardButton must be an Object"
                )
            if not isinstance(button.get("text"), str):
                raise _bad('can\'t parse InlineKeyboardButton: Field "text" must be of type String')
            if not button["text"]:
                # Emulator wording: Telegram refuses empty labels too.
                raise _bad('can\'t parse InlineKeyboardButton: Field "text" must be non-empty')
            # Telegram treats an empty callback_data as absent.
            actions = [key for key in _BUTTON_ACTIONS if button.get(key) not in (None, "")]
            if not actions:
                raise _bad(
                    "can't parse InlineKeyboardButton: "
                    "Text buttons are not allowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data not in (None, "") and (
                not isinstance(data, str) or len(data.encode()) > MAX_CALLBACK_DATA_BYTES
            ):
                raise _bad("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url not in (None, "") and (
                not isinstance(url, str) or any(c.isspace() for c in url)
            ):
                raise _bad("BUTTON_URL_INVALID")
            if "web_app" in actions and chat.type != "private":
                raise _bad("BUTTON_TYPE_INVALID")
        return markup

    def _reply_to(self, chat: EmuChat, params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {"message_id": params["reply_to_message_id"]}
        if not reply:
            return None
        message_id = reply.get("message_id")
        if message_id in self._history.get(chat.id, {}):
            return message_id
        if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
            return None
        raise _bad("message to be replied not found")

    def _post(self, chat: EmuChat, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        """Store a new bot message after the checks every send method shares."""
        markup = self._markup(params.get("reply_markup"), chat)
        reply_to = self._reply_to(chat, params)
        preview = params.get("link_preview_options")
        if preview is None and params.get("disable_web_page_preview"):
            preview = {"is_disabled": True}
        message = self._store(
            chat.id,
            BOT_ID,
            reply_markup=markup,
            reply_to_message_id=reply_to,
            link_preview_options=preview,
            **content,
        )
        return self._wire(message)

    def _own_message(self, chat: EmuChat, params: dict[str, Any]) -> dict[str, Any]:
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        message = self._history.get(chat.id, {}).get(message_id)
        if message is None:
            raise _bad("message to edit not found")
        if not message["outgoing"]:
            raise _bad("message can't be edited")
        return message

    def _replace(self, message: dict[str, Any], **changes: Any) -> dict[str, Any]:
        """Store an edited copy, so snapshots tests already hold stay unchanged."""
        edited = {**message, **changes, "edit_date": int(time.time())}
        self._history[message["chat_id"]][message["message_id"]] = edited
        return self._wire(edited)

    # ---- Bot API methods -------------------------------------------------------------------

    @staticmethod
    def _trivial(params: dict[str, Any]) -> bool:
        return True

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self._bot_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        if params.get("drop_pending_updates"):
            self._queue.clear()
        self.webhook_url, self._webhook_secret = "", None
        if self._deliverer is not None:
            self._deliverer.cancel()
            self._deliverer = None
        return True

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        if not url.startswith(("http://", "https://")):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._queue.clear()
        self.webhook_url, self._webhook_secret = url, params.get("secret_token")
        if self._deliverer is None:
            self._deliverer = asyncio.get_running_loop().create_task(self._deliver())
        self._wake_pollers()
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }

    #: Updates POSTed at once (Telegram's max_connections defaults to 40).
    WEBHOOK_CONNECTIONS = 40
    #: Seconds before an update whose POST failed is tried again (Telegram backs off longer).
    WEBHOOK_RETRY = 1.0

    async def _deliver(self) -> None:
        """Like Telegram in webhook mode: POST each pending update to the webhook, up to
        WEBHOOK_CONNECTIONS at once; a 2xx confirms it; anything else (an error status, a
        dropped connection, no answer in 60 s) leaves it pending, tried again later."""
        import aiohttp

        sending: dict[int, asyncio.Task[None]] = {}
        headers = {"Content-Type": "application/json"}
        if self._webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self._webhook_secret
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:

            async def post(pending: _Pending) -> None:
                status = 0
                try:
                    async with session.post(
                        self.webhook_url, data=json.dumps(pending.update), headers=headers
                    ) as response:
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                self.deliveries.append((pending.update_id, status))
                if 200 <= status < 300:
                    with contextlib.suppress(ValueError):
                        self._queue.remove(pending)
                else:
                    await asyncio.sleep(self.WEBHOOK_RETRY)
                    pending.delivered = False

            while True:
                for pending in list(self._queue):
                    if len(sending) >= self.WEBHOOK_CONNECTIONS:
                        break
                    if pending.update_id in sending or pending.delivered:
                        continue
                    pending.delivered = True
                    task = asyncio.create_task(post(pending))
                    sending[pending.update_id] = task
                    task.add_done_callback(lambda _, n=pending.update_id: sending.pop(n, None))
                event = self._wakeup
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.05):
                        await event.wait()

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params)
        return self._post(chat, params, **self._text(params))

    def _location(self, params: dict[str, Any]) -> dict[str, Any]:
        location = {
            "latitude": _as_float(params.get("latitude"), "latitude"),
            "longitude": _as_float(params.get("longitude"), "longitude"),
        }
        for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
            if params.get(key) is not None:
                location[key] = params[key]
        return location

    def _send_location(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params)
        return self._post(chat, params, location=self._location(params))

    def _send_venue(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params)
        location = self._location(params)
        venue = {
            "location": location,
            "title": params.get("title"),
            "address": params.get("address"),
        }
        for key in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
            if params.get(key) is not None:
                venue[key] = params[key]
        return self._post(chat, params, location=location, venue=venue)

    def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params)
        upload = params.get("document")
        if isinstance(upload, str) and upload.startswith("attach://"):  # how aiogram uploads
            upload = params.get(upload.removeprefix("attach://"))
        if not isinstance(upload, dict) or "content" not in upload:
            raise _bad("there is no document in the request")  # file_id/URL: not emulated
        if len(upload["content"]) > MAX_UPLOAD_BYTES:
            raise TelegramError(413, "Request Entity Too Large")
        caption = params.get("caption")
        if caption is not None and len(caption) > MAX_CAPTION_LENGTH:
            raise _bad("message caption is too long")
        document = {"file_name": upload["file"], "content": upload["content"]}
        return self._post(chat, params, document=document, caption=caption)

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("inline_message_id") is not None:
            raise _bad("inline messages are not emulated")
        chat = self._writable_chat(params)
        message = self._own_message(chat, params)
        if message["text"] is None:
            raise _bad("there is no text in the message to edit")
        content = self._text(params)
        markup = self._markup(params.get("reply_markup"), chat)
        if (
            content["plain"] == message["plain"]
            and content["entities"] == message["entities"]
            and markup == _inline_markup(message["reply_markup"])
        ):
            raise _bad(NOT_MODIFIED)
        # Telegram drops the inline keyboard when an edit does not repeat it.
        if markup is None and _inline_markup(message["reply_markup"]) is None:
            markup = message["reply_markup"]
        return self._replace(message, reply_markup=markup, **content)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("inline_message_id") is not None:
            raise _bad("inline messages are not emulated")
        chat = self._writable_chat(params)
        message = self._own_message(chat, params)
        markup = self._markup(params.get("reply_markup"), chat)
        if markup == _inline_markup(message["reply_markup"]):
            raise _bad(NOT_MODIFIED)
        return self._replace(message, reply_markup=markup)

    def _delete_message(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params.get("chat_id"))
        history = self._history.get(chat.id, {})
        if history.pop(params.get("message_id"), None) is None:
            raise _bad("message to delete not found")
        return True

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        query = self._queries.get(query_id)
        if (
            query is None
            or query.answered
            or self.clock() - query.created > self.callback_query_ttl
        ):
            raise _bad(QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        query.answered = True
        self.callback_answers.append(
            {
                "callback_query_id": query_id,
                "user_id": query.user_id,
                "text": text,
                "show_alert": bool(params.get("show_alert", False)),
                "url": params.get("url"),
                "cache_time": params.get("cache_time"),
                "waited": self.clock() - query.created,  # seconds the spinner turned
                # of which in the bot's hands (the rest it sat in the update queue)
                "handled_in": self.clock() - (query.fetched or query.created),
            }
        )
        return True

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        return _scope_key(params.get("scope")), params.get("language_code") or ""

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not _BOT_COMMAND_NAME_RE.fullmatch(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            description = command.get("description")
            if not description:
                raise _bad("command description must be non-empty")
            if len(description) > MAX_COMMAND_DESCRIPTION:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        if commands:
            self.commands[key] = commands
        else:
            self.commands.pop(key, None)
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands.get(self._commands_key(params), [])

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        return {
            **self._chat_api(chat.id),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    def _member(self, chat: EmuChat, user_id: int) -> dict[str, Any]:
        user = self._bot_api() if user_id == BOT_ID else self.users[user_id].to_api()
        if chat.type != "private" and user_id == chat.creator:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if chat.type != "private" and (user_id in chat.admins or user_id == BOT_ID):
            return {
                "status": "administrator",
                "user": user,
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": user_id != BOT_ID,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_send_welcome_messages": False,
                "can_pin_messages": True,
            }
        return {"status": "member", "user": user}

    def _get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        user_id = params.get("user_id")
        if user_id != BOT_ID and user_id not in self.users:
            raise _bad("user not found")
        if chat.type == "private" and user_id not in (chat.id, BOT_ID):
            raise _bad("user not found")
        return self._member(chat, user_id)

    def _get_chat_administrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._chat(params.get("chat_id"))
        if chat.type == "private":
            raise _bad("there are no administrators in the private chat")
        ids = [chat.creator] if chat.creator is not None else []
        ids.extend(sorted(chat.admins - set(ids)))
        ids.append(BOT_ID)
        known = [user_id for user_id in ids if user_id in self.users or user_id == BOT_ID]
        return [self._member(chat, user_id) for user_id in known]

    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        self._writable_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

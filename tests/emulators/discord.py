"""A local emulator of the Discord HTTP API (v10) and Gateway, served by aiohttp.

Why an emulator instead of mocking discord.py: the production bot is a real ``discord.Client``
talking REST and a zlib-compressed websocket.  Pointing that real client at this server (see
``redirect_discord``) exercises the same payload building, response parsing, rate-limit
handling, view/modal dispatch and exception mapping (``Forbidden``, ``NotFound``,
``HTTPException``) as production, and the emulator enforces the Discord rules that break bots in
production and that mocks never notice: the 3-second interaction deadline (404 10062), double
acknowledgement (400 40060), message/embed/component limits (400 50035), closed DMs (403 50007),
the message-content intent, allowed mentions, 429s with ``retry_after``, and gateway resumes.

Wire notes (discord.py 2.7.1), each learnt from its source:

* REST URLs come from the class attribute ``discord.http.Route.BASE``; a plain ``Client``
  connects to ``DiscordWebSocket.DEFAULT_GATEWAY`` and never asks GET /gateway/bot (only
  ``AutoShardedClient`` does); after READY it resumes at READY's ``resume_gateway_url``.
* discord.py parses a body as JSON only when Content-Type is exactly ``application/json``
  (aiohttp's ``json_response`` adds ``; charset=utf-8``, which turns every body into a str).
* It asks for ``compress=zlib-stream`` (``zstd-stream`` when ``zstandard`` is importable): one
  zlib stream per connection, every payload flushed with Z_SYNC_FLUSH so it ends in 00 00 ff ff.
  It sends text frames itself.
* A 429 without a ``Via`` header is taken for a Cloudflare ban and raised, not retried; the
  emulator sends ``Via: 1.1 google`` on every response.  Without X-RateLimit headers every
  bucket stays at limit 1 (one request in flight per route and channel); with them discord.py
  sleeps pre-emptively when ``Remaining`` hits 0.  So headers are always sent; when no limit is
  configured they advertise a large bucket.
* READY is followed by GUILD_CREATEs; discord.py fires ``on_ready`` only after no GUILD_CREATE
  arrived for ``guild_ready_timeout`` (2 s by default), so tests pass a small value.
* Interaction callbacks are POST /interactions/{id}/{token}/callback?with_response=1 and need an
  InteractionCallbackResponse body; the view of ``send_message(view=...)`` is stored under
  ``interaction.response_message_id``.  Guild-scoped commands are only found by the command tree
  when the interaction data carries ``guild_id``.
* Modals submitted back arrive as action rows (type 1) or labels (type 18) of text inputs;
  the emulator mirrors the structure of the modal the bot sent.
* ``Client.close()`` usually closes the gateway with 4000, not 1000 (its pending receive sees
  the close first and closes with its own default), so the session stays resumable.
* ``Client.before_identify_hook`` sleeps 5 s before every IDENTIFY but the first; after an
  INVALID_SESSION discord.py re-identifies at the gateway it last used (the resume URL).
* A burst of interactions queued faster than the bot answers runs into the 3-second deadline
  (10062) like on Discord; benchmarks pace them or raise ``interaction_ttl``.

Everything is in memory and single-threaded on the test's event loop; handlers do dict lookups
only, so benchmarks can push thousands of interactions per second through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hashlib
import itertools
import json
import logging
import math
import re
import secrets
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Self, TypeVar

from aiohttp import WSMsgType, web

logger = logging.getLogger(__name__)

API_VERSION = 10
DISCORD_EPOCH_MS = 1_420_070_400_000

#: The bot user; as for every modern application, its id is the application id.
BOT_ID = 1_300_000_000_000_000_001
APPLICATION_ID = BOT_ID
BOT_USERNAME = "community-bot"

# ---- permission bits (subset) ---------------------------------------------------------------
PERM_CREATE_INSTANT_INVITE = 1 << 0
PERM_ADMINISTRATOR = 1 << 3
PERM_ADD_REACTIONS = 1 << 6
PERM_VIEW_CHANNEL = 1 << 10
PERM_SEND_MESSAGES = 1 << 11
PERM_MANAGE_MESSAGES = 1 << 13
PERM_EMBED_LINKS = 1 << 14
PERM_ATTACH_FILES = 1 << 15
PERM_READ_MESSAGE_HISTORY = 1 << 16
PERM_MENTION_EVERYONE = 1 << 17
PERM_USE_EXTERNAL_EMOJIS = 1 << 18
PERM_CONNECT = 1 << 20
PERM_SPEAK = 1 << 21
PERM_CHANGE_NICKNAME = 1 << 26
PERM_USE_APPLICATION_COMMANDS = 1 << 31
PERM_CREATE_PUBLIC_THREADS = 1 << 35
PERM_SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1

#: What @everyone may do in a new guild (roughly Discord's default).
DEFAULT_EVERYONE_PERMISSIONS = (
    PERM_CREATE_INSTANT_INVITE
    | PERM_ADD_REACTIONS
    | PERM_VIEW_CHANNEL
    | PERM_SEND_MESSAGES
    | PERM_EMBED_LINKS
    | PERM_ATTACH_FILES
    | PERM_READ_MESSAGE_HISTORY
    | PERM_USE_EXTERNAL_EMOJIS
    | PERM_CONNECT
    | PERM_SPEAK
    | PERM_CHANGE_NICKNAME
    | PERM_USE_APPLICATION_COMMANDS
    | PERM_CREATE_PUBLIC_THREADS
    | PERM_SEND_MESSAGES_IN_THREADS
)
#: The bot's managed role.  It includes MENTION_EVERYONE on purpose: many bots are invited
#: with it, and then only ``allowed_mentions`` stands between user text and a guild-wide ping.
DEFAULT_BOT_PERMISSIONS = (
    DEFAULT_EVERYONE_PERMISSIONS | PERM_MANAGE_MESSAGES | PERM_MENTION_EVERYONE
)

# ---- gateway intents -------------------------------------------------------------------------
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
INTENT_PRIVILEGED = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# ---- message flags ---------------------------------------------------------------------------
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_IS_VOICE_MESSAGE = 1 << 13
FLAG_IS_COMPONENTS_V2 = 1 << 15
_SENDABLE_FLAGS = (
    FLAG_SUPPRESS_EMBEDS
    | FLAG_SUPPRESS_NOTIFICATIONS
    | FLAG_IS_VOICE_MESSAGE
    | FLAG_IS_COMPONENTS_V2
)

# ---- interaction and callback types ----------------------------------------------------------
INTERACTION_PING = 1
INTERACTION_APPLICATION_COMMAND = 2
INTERACTION_MESSAGE_COMPONENT = 3
INTERACTION_AUTOCOMPLETE = 4
INTERACTION_MODAL_SUBMIT = 5

CALLBACK_PONG = 1
CALLBACK_CHANNEL_MESSAGE = 4
CALLBACK_DEFERRED_CHANNEL_MESSAGE = 5
CALLBACK_DEFERRED_UPDATE_MESSAGE = 6
CALLBACK_UPDATE_MESSAGE = 7
CALLBACK_AUTOCOMPLETE_RESULT = 8
CALLBACK_MODAL = 9

# ---- limits ----------------------------------------------------------------------------------
MAX_CONTENT_LENGTH = 2000
MAX_EMBEDS = 10
MAX_EMBED_TITLE = 256
MAX_EMBED_DESCRIPTION = 4096
MAX_EMBED_FIELDS = 25
MAX_EMBED_FIELD_NAME = 256
MAX_EMBED_FIELD_VALUE = 1024
MAX_EMBED_FOOTER = 2048
MAX_EMBED_AUTHOR = 256
MAX_EMBED_TOTAL = 6000
MAX_ACTION_ROWS = 5
MAX_ROW_WIDTH = 5
MAX_V2_COMPONENTS = 40
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MAX_SELECT_OPTIONS = 25
MAX_PLACEHOLDER = 150
MAX_MODAL_TITLE = 45
MAX_MODAL_COMPONENTS = 5
MAX_TEXT_INPUT_LABEL = 45
MAX_TEXT_INPUT_VALUE = 4000
MAX_CHOICES = 25
MAX_OPTIONS = 25
MAX_COMMAND_DESCRIPTION = 100
MAX_COMMAND_SIZE = 4000
MAX_CHAT_INPUT_COMMANDS = 100
MAX_CONTEXT_MENU_COMMANDS = 15
MAX_FILES = 10
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

# Error texts Discord uses (client code matches on the numeric codes).
UNKNOWN_INTERACTION = (10062, "Unknown interaction")
ALREADY_ACKNOWLEDGED = (40060, "Interaction has already been acknowledged.")
CANNOT_MESSAGE_USER = (50007, "Cannot send messages to this user")
EMPTY_MESSAGE = (50006, "Cannot send an empty message")
INVALID_FORM_BODY = (50035, "Invalid Form Body")

_OP_NAMES = {
    0: "DISPATCH",
    1: "HEARTBEAT",
    2: "IDENTIFY",
    3: "PRESENCE_UPDATE",
    4: "VOICE_STATE_UPDATE",
    6: "RESUME",
    7: "RECONNECT",
    8: "REQUEST_GUILD_MEMBERS",
    9: "INVALID_SESSION",
    10: "HELLO",
    11: "HEARTBEAT_ACK",
}

# Option types of application commands.
_SUB_COMMAND = 1
_SUB_COMMAND_GROUP = 2
_STRING = 3
_INTEGER = 4
_BOOLEAN = 5
_USER = 6
_CHANNEL = 7
_ROLE = 8
_MENTIONABLE = 9
_NUMBER = 10
_ATTACHMENT = 11

_SELECT_TYPES = frozenset({3, 5, 6, 7, 8})
_COMMAND_NAME_RE = re.compile(r"[-_'\w]{1,32}")
_USER_MENTION_RE = re.compile(r"<@!?(\d{1,20})>")
_ROLE_MENTION_RE = re.compile(r"<@&(\d{1,20})>")
_EVERYONE_RE = re.compile(r"@(?:everyone|here)\b")

# A 429 deadline is compared with a little slack: a client that sleeps exactly retry_after
# after receiving the response can be scheduled a hair early by the event loop.
_EARLY_RETRY_TOLERANCE = 0.005
#: X-RateLimit-Limit advertised for routes the test did not limit.
UNLIMITED_BUCKET = 10_000
_JSON_SEPARATORS = (",", ":")

T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# Data objects handed to tests


@dataclass(slots=True)
class EmuUser:
    """A Discord user the emulator knows."""

    id: int
    username: str
    global_name: str | None = None
    #: The locale their client reports in interactions.
    locale: str = "en-US"
    #: False: the user closed DMs from server members; the bot's DMs fail with 403 50007.
    dms_open: bool = True
    bot: bool = False

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass(slots=True)
class EmuRole:
    id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False

    def to_api(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }


@dataclass(slots=True)
class EmuChannel:
    """A guild channel (text 0, voice 2, category 4, announcement 5) or a DM (type 1)."""

    id: int
    type: int
    name: str | None = None
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    #: ``[{"id", "type": 0 role | 1 member, "allow", "deny"}]`` with string bitfields.
    permission_overwrites: list[dict[str, Any]] = field(default_factory=list)
    nsfw: bool = False
    #: For DMs: the other user.
    recipient_id: int | None = None
    last_message_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class EmuMember:
    user_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = ""


@dataclass(slots=True)
class EmuGuild:
    id: int
    name: str
    owner_id: int
    locale: str = "en-US"
    channels: dict[int, EmuChannel] = field(default_factory=dict)
    roles: dict[int, EmuRole] = field(default_factory=dict)
    members: dict[int, EmuMember] = field(default_factory=dict)
    features: list[str] = field(default_factory=list)
    joined_at: str = ""


@dataclass(slots=True)
class Call:
    """One REST request as the emulator received it, with its outcome."""

    method: str
    #: Path below ``/api/v10``, e.g. ``/channels/5/messages``.
    path: str
    #: ``"POST /channels/{channel_id}/messages"``; "" for unknown routes.
    route: str
    #: Path parameters (strings), e.g. ``{"channel_id": "5"}``.
    params: dict[str, str]
    query: dict[str, str]
    #: The decoded JSON body (``payload_json`` for multipart requests), or None.
    json: Any
    #: ``emu.clock()`` when the request arrived.
    time: float
    #: The bot token from ``Authorization: Bot <token>``, if any.
    token: str | None = None
    #: Uploaded files: ``{"field", "filename", "size", "content_type"}``.
    files: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    result: Any = None
    #: Discord's JSON error body when ``status >= 400``.
    error: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status < 400

    def __str__(self) -> str:
        outcome = "ok" if self.ok else f"{self.status} {self.error}"
        body = "" if self.json is None else f" {_abbreviate(self.json)}"
        return f"{self.method} {self.path}{body} -> {outcome}"


@dataclass(slots=True, eq=False)
class EmuInteraction:
    """An interaction the emulator dispatched, and what the bot did with it."""

    id: int
    token: str
    type: int
    user_id: int
    guild_id: int | None
    channel_id: int
    #: The INTERACTION_CREATE payload as dispatched.
    payload: dict[str, Any]
    #: ``emu.clock()`` at dispatch.
    created: float
    #: The command name (application commands, autocomplete) or custom_id (components, modals).
    name: str
    #: For components (and modals opened from one): the message the component is on.
    message_id: int | None = None
    #: False when no gateway session was connected to receive it.
    delivered: bool = False
    #: The callback type of the initial response, None while unacknowledged.
    response_type: int | None = None
    responded_at: float | None = None
    #: The message ``@original`` refers to.
    original_message_id: int | None = None
    #: A DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE whose loading message was not yet replaced.
    loading: bool = False
    followup_ids: list[int] = field(default_factory=list)
    responses: list[EmuResponse] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return self.response_type is not None

    @property
    def data(self) -> dict[str, Any]:
        return self.payload.get("data") or {}


@dataclass(slots=True)
class EmuResponse:
    """One accepted answer to an interaction: the callback, a followup, an edit or a delete."""

    interaction: EmuInteraction
    #: "callback", "followup", "edit" (PATCH @original or a followup) or "delete".
    kind: str
    #: The callback type for ``kind == "callback"``, else None.
    type: int | None
    #: The callback's ``data`` or the webhook body as sent (content, embeds, components,
    #: flags, allowed_mentions, choices, custom_id/title for modals, ...).
    data: dict[str, Any]
    time: float
    #: The message created or changed, if any.
    message_id: int | None = None

    @property
    def interaction_id(self) -> int:
        return self.interaction.id

    @property
    def content(self) -> str | None:
        return self.data.get("content")

    @property
    def flags(self) -> int:
        return int(self.data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.data.get("embeds") or []

    @property
    def components(self) -> list[dict[str, Any]]:
        return self.data.get("components") or []

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        return self.data.get("allowed_mentions")

    @property
    def choices(self) -> list[dict[str, Any]]:
        return self.data.get("choices") or []

    def __str__(self) -> str:
        return (
            f"{self.kind} type={self.type} for interaction {self.interaction.id} "
            f"({self.interaction.name!r}): {_abbreviate(self.data)}"
        )


@dataclass(slots=True)
class GatewayFrame:
    """A gateway payload: ``direction`` "out" (emulator to bot) or "in" (bot to emulator)."""

    direction: str
    op: int
    #: The event name of a DISPATCH (op 0).
    t: str | None
    s: int | None
    d: Any
    time: float
    session_id: str | None
    connection_id: int

    @property
    def name(self) -> str:
        """The event name for dispatches, else the opcode name ("IDENTIFY", "RESUME", ...)."""
        return self.t or _OP_NAMES.get(self.op, str(self.op))

    def __str__(self) -> str:
        return f"{self.direction} {self.name} s={self.s} conn={self.connection_id}"


@dataclass(frozen=True, slots=True)
class Throttle:
    """A 429 the emulator handed out."""

    route: str
    #: "route" (one bucket: route + major parameters) or "global" (the whole token).
    scope: str
    #: "route_limit", "global_limit", "fail_next", "fail_every" or "early_retry".
    reason: str
    at: float
    retry_after: float
    bucket: str

    @property
    def until(self) -> float:
        return self.at + self.retry_after


@dataclass(frozen=True, slots=True)
class EarlyRetry:
    """A request that arrived before the ``retry_after`` of an earlier 429 in its scope."""

    route: str
    at: float
    throttle: Throttle

    @property
    def waited(self) -> float:
        return self.at - self.throttle.at


class DiscordError(Exception):
    """An API failure, rendered as Discord's JSON error body."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        self._body = body

    def body(self) -> dict[str, Any]:
        if self._body is not None:
            return self._body
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def _error(pair: tuple[int, str], status: int) -> DiscordError:
    return DiscordError(status, pair[0], pair[1])


def _not_found(code: int, what: str) -> DiscordError:
    return DiscordError(404, code, f"Unknown {what}")


class _FormErrors:
    """Collects field errors into Discord's nested ``errors`` tree (400 code 50035)."""

    __slots__ = ("prefix", "tree")

    def __init__(self, prefix: tuple[str | int, ...] = ()) -> None:
        self.prefix = prefix
        self.tree: dict[str, Any] = {}

    def add(self, path: Iterable[str | int], code: str, message: str) -> None:
        node = self.tree
        for key in (*self.prefix, *path):
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def too_long(self, path: Iterable[str | int], limit: int) -> None:
        self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def required(self, path: Iterable[str | int]) -> None:
        self.add(path, "BASE_TYPE_REQUIRED", "This field is required")

    def raise_if_any(self) -> None:
        if self.tree:
            raise DiscordError(400, *INVALID_FORM_BODY, self.tree)


# --------------------------------------------------------------------------------------------
# Helpers


def _abbreviate(value: Any, width: int = 120) -> str:
    shown = json.dumps(value, default=str, ensure_ascii=False)
    return shown if len(shown) <= width else shown[: width - 3] + "..."


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=_JSON_SEPARATORS, ensure_ascii=False)


def _iso(ts: float | None = None) -> str:
    moment = datetime.datetime.fromtimestamp(time.time() if ts is None else ts, datetime.UTC)
    return moment.isoformat()


def _snowflake_int(value: Any, what: str = "snowflake") -> int:
    if isinstance(value, bool):
        raise ValueError(what)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise ValueError(f"{what}: {value!r} is not a snowflake")


def _id_of(obj: Any) -> int:
    """An id from an int, a numeric str, an ``Emu*`` object or a wire dict."""
    if isinstance(obj, dict):
        return int(obj["id"])
    if hasattr(obj, "id"):
        return int(obj.id)
    return _snowflake_int(obj)


def walk_components(components: Iterable[dict[str, Any]] | None) -> Iterator[dict[str, Any]]:
    """Every component in a (possibly nested, components-v2) component tree."""
    for component in components or ():
        if not isinstance(component, dict):
            continue
        yield component
        yield from walk_components(component.get("components"))
        for key in ("accessory", "component"):
            child = component.get(key)
            if isinstance(child, dict):
                yield from walk_components([child])


def _text_len(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def _permission_bits(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


# --------------------------------------------------------------------------------------------
# Internal records


@dataclass(slots=True)
class _Bucket:
    reset_at: float = 0.0
    count: int = 0


@dataclass(slots=True)
class _Fault:
    route: str | None
    retry_after: float
    is_global: bool
    remaining: int | None = None
    every: int | None = None
    seen: int = 0


@dataclass(slots=True)
class _Modal:
    """A modal shown to a user and not yet submitted."""

    user_id: int
    custom_id: str
    title: str
    components: list[dict[str, Any]]
    source: EmuInteraction


class _Connection:
    __slots__ = (
        "closed",
        "compressor",
        "flush_mode",
        "id",
        "path",
        "sent_close_code",
        "server_closed",
        "session",
        "ws",
    )

    def __init__(self, conn_id: int, ws: web.WebSocketResponse, path: str) -> None:
        self.id = conn_id
        self.ws = ws
        self.path = path
        self.compressor: Any = None
        self.flush_mode: int = zlib.Z_SYNC_FLUSH
        self.session: GatewaySession | None = None
        self.closed = False
        self.server_closed = False
        self.sent_close_code: int | None = None

    async def send(self, text: str) -> bool:
        """Send one payload; compression and the write happen before the first await, so
        concurrent senders cannot interleave the shared compression stream."""
        if self.closed:
            return False
        try:
            if self.compressor is not None:
                data = text.encode()
                await self.ws.send_bytes(
                    self.compressor.compress(data) + self.compressor.flush(self.flush_mode)
                )
            else:
                await self.ws.send_str(text)
        except (ConnectionError, RuntimeError):
            self.closed = True
            return False
        return True

    async def close(self, code: int, reason: str = "") -> None:
        if not self.server_closed:
            self.sent_close_code = code
        self.server_closed = True
        self.closed = True
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.close(code=code, message=reason.encode())


@dataclass(slots=True, eq=False)
class GatewaySession:
    """A gateway session created by IDENTIFY; it survives disconnects until invalidated."""

    id: str
    token: str
    intents: int
    shard: tuple[int, int]
    identify: dict[str, Any]
    seq: int = 0
    buffer: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=10_000))
    connection: _Connection | None = None
    #: Sequence numbers below this were dropped from the replay buffer.
    dropped_before: int = 0

    @property
    def connected(self) -> bool:
        return self.connection is not None and not self.connection.closed


class _Feed(Generic[T]):
    """A growing list of records plus waiters for the first record matching a predicate."""

    __slots__ = ("_waiters", "items")

    def __init__(self) -> None:
        self.items: list[T] = []
        self._waiters: list[tuple[Callable[[T], bool], asyncio.Future[T]]] = []

    def append(self, item: T) -> None:
        self.items.append(item)
        if not self._waiters:
            return
        for predicate, future in self._waiters:
            if future.done():
                continue
            try:
                matched = predicate(item)
            except Exception as exc:
                future.set_exception(exc)
            else:
                if matched:
                    future.set_result(item)

    async def wait(
        self,
        predicate: Callable[[T], bool],
        timeout: float,  # noqa: ASYNC109 - mirrors asyncio.wait_for
        since: int,
        describe: str,
    ) -> T:
        for item in itertools.islice(self.items, since, None):
            if predicate(item):
                return item
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        waiter = (predicate, future)
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            recent = [str(item) for item in self.items[-5:]]
            raise TimeoutError(
                f"nothing matching {describe} within {timeout}s (since #{since}); "
                f"last records: {recent or 'none'}"
            ) from None
        finally:
            self._waiters.remove(waiter)


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    template: str
    handler: str
    #: Needs ``Authorization: Bot <token>`` and counts against the global limit.
    bot_auth: bool = True
    #: Has a per-route bucket (interaction callbacks have none).
    bucketed: bool = True

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


_ROUTES: tuple[_Route, ...] = (
    _Route("GET", "/gateway", "_get_gateway", bot_auth=False),
    _Route("GET", "/gateway/bot", "_get_gateway_bot"),
    _Route("GET", "/users/@me", "_get_me"),
    _Route("POST", "/users/@me/channels", "_create_dm"),
    _Route("GET", "/users/{user_id}", "_get_user"),
    _Route("GET", "/oauth2/applications/@me", "_get_application"),
    _Route("GET", "/applications/@me", "_get_application"),
    _Route("GET", "/applications/{application_id}/commands", "_get_commands"),
    _Route("PUT", "/applications/{application_id}/commands", "_put_commands"),
    _Route("POST", "/applications/{application_id}/commands", "_post_command"),
    _Route("GET", "/applications/{application_id}/commands/{command_id}", "_get_command"),
    _Route("DELETE", "/applications/{application_id}/commands/{command_id}", "_delete_command"),
    _Route("GET", "/applications/{application_id}/guilds/{guild_id}/commands", "_get_commands"),
    _Route("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", "_put_commands"),
    _Route("POST", "/applications/{application_id}/guilds/{guild_id}/commands", "_post_command"),
    _Route(
        "GET",
        "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
        "_get_command",
    ),
    _Route(
        "DELETE",
        "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
        "_delete_command",
    ),
    _Route("GET", "/channels/{channel_id}", "_get_channel"),
    _Route("POST", "/channels/{channel_id}/typing", "_typing"),
    _Route("GET", "/channels/{channel_id}/messages", "_get_messages"),
    _Route("POST", "/channels/{channel_id}/messages", "_post_message"),
    _Route("GET", "/channels/{channel_id}/messages/{message_id}", "_get_message"),
    _Route("PATCH", "/channels/{channel_id}/messages/{message_id}", "_patch_message"),
    _Route("DELETE", "/channels/{channel_id}/messages/{message_id}", "_delete_message"),
    _Route("GET", "/guilds/{guild_id}", "_get_guild"),
    _Route("GET", "/guilds/{guild_id}/channels", "_get_guild_channels"),
    _Route("GET", "/guilds/{guild_id}/roles", "_get_guild_roles"),
    _Route("GET", "/guilds/{guild_id}/members/{user_id}", "_get_member"),
    _Route("GET", "/guilds/{guild_id}/scheduled-events", "_get_scheduled_events"),
    _Route("POST", "/guilds/{guild_id}/scheduled-events", "_post_scheduled_event"),
    _Route("GET", "/guilds/{guild_id}/scheduled-events/{event_id}", "_get_scheduled_event"),
    _Route("PATCH", "/guilds/{guild_id}/scheduled-events/{event_id}", "_patch_scheduled_event"),
    _Route("DELETE", "/guilds/{guild_id}/scheduled-events/{event_id}", "_delete_scheduled_event"),
    _Route(
        "POST",
        "/interactions/{interaction_id}/{interaction_token}/callback",
        "_interaction_callback",
        bot_auth=False,
        bucketed=False,
    ),
    _Route("POST", "/webhooks/{webhook_id}/{webhook_token}", "_webhook_execute", bot_auth=False),
    _Route(
        "GET",
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        "_webhook_get",
        bot_auth=False,
    ),
    _Route(
        "PATCH",
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        "_webhook_edit",
        bot_auth=False,
    ),
    _Route(
        "DELETE",
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        "_webhook_delete",
        bot_auth=False,
    ),
)


def _route_table() -> dict[tuple[str, int], list[tuple[_Route, tuple[str, ...]]]]:
    table: dict[tuple[str, int], list[tuple[_Route, tuple[str, ...]]]] = {}
    for route in _ROUTES:
        segments = tuple(route.template.strip("/").split("/"))
        table.setdefault((route.method, len(segments)), []).append((route, segments))
    for candidates in table.values():
        # Literal segments win over parameters: /users/@me before /users/{user_id}.
        candidates.sort(key=lambda item: sum(seg.startswith("{") for seg in item[1]))
    return table


_ROUTE_TABLE = _route_table()


def _match_route(method: str, path: str) -> tuple[_Route, dict[str, str]] | None:
    segments = path.strip("/").split("/")
    for route, template in _ROUTE_TABLE.get((method, len(segments)), ()):
        params: dict[str, str] = {}
        for pattern, segment in zip(template, segments, strict=True):
            if pattern.startswith("{"):
                params[pattern[1:-1]] = segment
            elif pattern != segment:
                break
        else:
            return route, params
    return None


def _bucket_hash(route_key: str) -> str:
    return hashlib.md5(route_key.encode(), usedforsecurity=False).hexdigest()


async def _read_body(request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
    """The JSON body (or multipart ``payload_json``) and the uploaded files."""
    if not request.body_exists:
        return None, []
    if request.content_type == "multipart/form-data":
        form = await request.post()
        payload: Any = None
        files: list[dict[str, Any]] = []
        for name, value in form.items():
            if isinstance(value, web.FileField):
                content = value.file.read()
                files.append(
                    {
                        "field": name,
                        "filename": value.filename,
                        "size": len(content),
                        "content": content,
                        "content_type": value.content_type,
                    }
                )
            elif name == "payload_json":
                text = value if isinstance(value, str) else bytes(value).decode()
                payload = _parse_json(text)
        return payload, files
    raw = await request.read()
    if not raw:
        return None, []
    return _parse_json(raw.decode()), []


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise DiscordError(400, 50109, "The request body contains invalid JSON.") from None


# --------------------------------------------------------------------------------------------
# Message and component validation


def _check_embeds(embeds: Any, errors: _FormErrors) -> list[dict[str, Any]]:
    if not isinstance(embeds, list):
        errors.add(("embeds",), "BASE_TYPE_ARRAY", "Must be an array.")
        return []
    if len(embeds) > MAX_EMBEDS:
        errors.too_long(("embeds",), MAX_EMBEDS)
    total = 0
    checked = []
    for index, embed in enumerate(embeds):
        path: tuple[str | int, ...] = ("embeds", index)
        if not isinstance(embed, dict):
            errors.add(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
            continue
        for key, limit in (("title", MAX_EMBED_TITLE), ("description", MAX_EMBED_DESCRIPTION)):
            size = _text_len(embed.get(key))
            total += size
            if size > limit:
                errors.too_long((*path, key), limit)
        fields = embed.get("fields") or []
        if len(fields) > MAX_EMBED_FIELDS:
            errors.too_long((*path, "fields"), MAX_EMBED_FIELDS)
        for number, item in enumerate(fields):
            for key, limit in (("name", MAX_EMBED_FIELD_NAME), ("value", MAX_EMBED_FIELD_VALUE)):
                value = item.get(key) if isinstance(item, dict) else None
                if not isinstance(value, str) or not value.strip():
                    errors.required((*path, "fields", number, key))
                    continue
                total += len(value)
                if len(value) > limit:
                    errors.too_long((*path, "fields", number, key), limit)
        for key, inner, limit in (
            ("footer", "text", MAX_EMBED_FOOTER),
            ("author", "name", MAX_EMBED_AUTHOR),
        ):
            part = embed.get(key)
            if isinstance(part, dict):
                size = _text_len(part.get(inner))
                total += size
                if size > limit:
                    errors.too_long((*path, key, inner), limit)
        checked.append({"type": "rich", **embed})
    if total > MAX_EMBED_TOTAL:
        errors.add(
            ("embeds",),
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}",
        )
    return checked


def _check_interactive(
    component: dict[str, Any], path: tuple[str | int, ...], errors: _FormErrors, seen: set[str]
) -> None:
    kind = component.get("type")
    custom_id = component.get("custom_id")
    if kind == 2:
        style = component.get("style")
        label = component.get("label")
        if style not in (1, 2, 3, 4, 5, 6):
            errors.add(
                (*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3, 4, 5, 6)."
            )
        if _text_len(label) > MAX_BUTTON_LABEL:
            errors.too_long((*path, "label"), MAX_BUTTON_LABEL)
        if style == 5:
            if not component.get("url"):
                errors.required((*path, "url"))
            if custom_id is not None:
                errors.add(
                    (*path, "custom_id"),
                    "BUTTON_CUSTOM_ID_NOT_ALLOWED",
                    "A custom id cannot be set on a link button",
                )
            return
        if style == 6:
            return
        if not label and not component.get("emoji"):
            errors.add((*path, "label"), "BUTTON_COMPONENT_INVALID", "A label or emoji is required")
    elif kind in _SELECT_TYPES:
        if _text_len(component.get("placeholder")) > MAX_PLACEHOLDER:
            errors.too_long((*path, "placeholder"), MAX_PLACEHOLDER)
        min_values = component.get("min_values", 1)
        max_values = component.get("max_values", 1)
        if not isinstance(min_values, int) or not 0 <= min_values <= MAX_SELECT_OPTIONS:
            errors.add(
                (*path, "min_values"), "NUMBER_TYPE_MAX", "int value should be <= 25 and >= 0."
            )
        if not isinstance(max_values, int) or not 1 <= max_values <= MAX_SELECT_OPTIONS:
            errors.add(
                (*path, "max_values"), "NUMBER_TYPE_MAX", "int value should be <= 25 and >= 1."
            )
        if kind == 3:
            options = component.get("options") or []
            if not options:
                errors.add(
                    (*path, "options"),
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 25 in length.",
                )
            elif len(options) > MAX_SELECT_OPTIONS:
                errors.too_long((*path, "options"), MAX_SELECT_OPTIONS)
            for number, option in enumerate(options):
                for key in ("label", "value", "description"):
                    if _text_len(option.get(key)) > 100:
                        errors.too_long((*path, "options", number, key), 100)
    elif kind == 4:
        errors.add(
            (*path, "type"),
            "COMPONENT_TYPE_INVALID",
            "Text inputs are only allowed in modals",
        )
        return
    else:
        return
    if not isinstance(custom_id, str) or not custom_id:
        errors.required((*path, "custom_id"))
    elif len(custom_id) > MAX_CUSTOM_ID:
        errors.too_long((*path, "custom_id"), MAX_CUSTOM_ID)
    elif custom_id in seen:
        errors.add(
            (*path, "custom_id"),
            "COMPONENT_CUSTOM_ID_DUPLICATED",
            "Component custom id cannot be duplicated",
        )
    else:
        seen.add(custom_id)


def _check_components(components: Any, flags: int, errors: _FormErrors) -> list[dict[str, Any]]:
    if not isinstance(components, list):
        errors.add(("components",), "BASE_TYPE_ARRAY", "Must be an array.")
        return []
    seen: set[str] = set()
    if flags & FLAG_IS_COMPONENTS_V2:
        count = sum(1 for _ in walk_components(components))
        if count > MAX_V2_COMPONENTS:
            errors.too_long(("components",), MAX_V2_COMPONENTS)
        for index, component in enumerate(components):
            for item in walk_components([component]):
                if item.get("type") in (2, *_SELECT_TYPES):
                    _check_interactive(item, ("components", index), errors, seen)
        return components
    if len(components) > MAX_ACTION_ROWS:
        errors.too_long(("components",), MAX_ACTION_ROWS)
    for index, row in enumerate(components):
        path: tuple[str | int, ...] = ("components", index)
        if not isinstance(row, dict) or row.get("type") != 1:
            errors.add(
                (*path, "type"),
                "COMPONENT_LAYOUT_INVALID",
                "Top-level components must be action rows unless IS_COMPONENTS_V2 is set",
            )
            continue
        children = row.get("components") or []
        if not children:
            errors.add(
                (*path, "components"),
                "BASE_TYPE_BAD_LENGTH",
                f"Must be between 1 and {MAX_ROW_WIDTH} in length.",
            )
        elif len(children) > MAX_ROW_WIDTH:
            errors.too_long((*path, "components"), MAX_ROW_WIDTH)
        if len(children) > 1 and any(c.get("type") in _SELECT_TYPES for c in children):
            errors.add(
                (*path, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        for number, child in enumerate(children):
            _check_interactive(child, (*path, "components", number), errors, seen)
    return components


def _check_allowed_mentions(allowed: Any, errors: _FormErrors) -> dict[str, Any] | None:
    if allowed is None:
        return None
    if not isinstance(allowed, dict):
        errors.add(("allowed_mentions",), "MODEL_TYPE_CONVERT", "Must be an object.")
        return None
    parse = allowed.get("parse") or []
    for kind in ("users", "roles"):
        if kind in parse and allowed.get(kind):
            errors.add(
                ("allowed_mentions",),
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )
        if len(allowed.get(kind) or []) > 100:
            errors.too_long(("allowed_mentions", kind), 100)
    return allowed


def _check_modal(data: Any, errors: _FormErrors) -> dict[str, Any]:
    if not isinstance(data, dict):
        errors.required(("custom_id",))
        return {}
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        errors.required(("custom_id",))
    elif len(custom_id) > MAX_CUSTOM_ID:
        errors.too_long(("custom_id",), MAX_CUSTOM_ID)
    title = data.get("title")
    if not isinstance(title, str) or not title:
        errors.required(("title",))
    elif len(title) > MAX_MODAL_TITLE:
        errors.too_long(("title",), MAX_MODAL_TITLE)
    components = data.get("components") or []
    if not components:
        errors.add(("components",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
    elif len(components) > MAX_MODAL_COMPONENTS:
        errors.too_long(("components",), MAX_MODAL_COMPONENTS)
    seen: set[str] = set()
    for index, top in enumerate(components):
        path: tuple[str | int, ...] = ("components", index)
        kind = top.get("type") if isinstance(top, dict) else None
        if kind == 1:
            inputs = [
                (c, (*path, "components", n)) for n, c in enumerate(top.get("components", []))
            ]
            if len(inputs) != 1:
                errors.add(
                    (*path, "components"),
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 1 in length.",
                )
        elif kind == 18:
            label = top.get("label")
            if not isinstance(label, str) or not label:
                errors.required((*path, "label"))
            elif len(label) > MAX_TEXT_INPUT_LABEL:
                errors.too_long((*path, "label"), MAX_TEXT_INPUT_LABEL)
            if _text_len(top.get("description")) > 100:
                errors.too_long((*path, "description"), 100)
            inputs = [(top.get("component") or {}, (*path, "component"))]
        elif kind == 10:
            continue
        else:
            errors.add(
                (*path, "type"), "COMPONENT_TYPE_INVALID", "Invalid component type for a modal"
            )
            continue
        for item, item_path in inputs:
            item_id = item.get("custom_id")
            if not isinstance(item_id, str) or not item_id:
                errors.required((*item_path, "custom_id"))
            elif len(item_id) > MAX_CUSTOM_ID:
                errors.too_long((*item_path, "custom_id"), MAX_CUSTOM_ID)
            elif item_id in seen:
                errors.add(
                    (*item_path, "custom_id"),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            else:
                seen.add(item_id)
            if item.get("type") == 4:
                if kind == 1:
                    label = item.get("label")
                    if not isinstance(label, str) or not label:
                        errors.required((*item_path, "label"))
                    elif len(label) > MAX_TEXT_INPUT_LABEL:
                        errors.too_long((*item_path, "label"), MAX_TEXT_INPUT_LABEL)
                if item.get("style") not in (1, 2):
                    errors.add(
                        (*item_path, "style"), "BASE_TYPE_CHOICES", "Value must be one of (1, 2)."
                    )
                for key in ("min_length", "max_length"):
                    bound = item.get(key)
                    if bound is not None and not 0 <= bound <= MAX_TEXT_INPUT_VALUE:
                        errors.add(
                            (*item_path, key),
                            "NUMBER_TYPE_MAX",
                            f"int value should be <= {MAX_TEXT_INPUT_VALUE} and >= 0.",
                        )
                if _text_len(item.get("value")) > MAX_TEXT_INPUT_VALUE:
                    errors.too_long((*item_path, "value"), MAX_TEXT_INPUT_VALUE)
                if _text_len(item.get("placeholder")) > 100:
                    errors.too_long((*item_path, "placeholder"), 100)
            elif item.get("type") not in (*_SELECT_TYPES, 19):
                errors.add(
                    (*item_path, "type"),
                    "COMPONENT_TYPE_INVALID",
                    "Invalid component type for a modal",
                )
    return data


def _command_size(command: dict[str, Any]) -> int:
    """Characters Discord counts towards the 4000 per-command limit."""
    size = _text_len(command.get("name")) + _text_len(command.get("description"))
    for option in command.get("options") or []:
        size += _command_size(option)
        for choice in option.get("choices") or []:
            size += _text_len(choice.get("name")) + len(str(choice.get("value", "")))
    return size


def _check_command_options(
    options: Any, path: tuple[str | int, ...], errors: _FormErrors, depth: int = 0
) -> None:
    if options is None:
        return
    if not isinstance(options, list):
        errors.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if len(options) > MAX_OPTIONS:
        errors.too_long(path, MAX_OPTIONS)
    names: set[str] = set()
    optional_seen = False
    for index, option in enumerate(options):
        here = (*path, index)
        name = option.get("name")
        kind = option.get("type")
        if (
            not isinstance(name, str)
            or not _COMMAND_NAME_RE.fullmatch(name)
            or name != name.lower()
        ):
            errors.add(
                (*here, "name"),
                "APPLICATION_COMMAND_INVALID_NAME",
                "Command name is invalid",
            )
        elif name in names:
            errors.add(
                (*here, "name"),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option name already exists",
            )
        else:
            names.add(name)
        description = option.get("description")
        if not isinstance(description, str) or not description:
            errors.required((*here, "description"))
        elif len(description) > MAX_COMMAND_DESCRIPTION:
            errors.too_long((*here, "description"), MAX_COMMAND_DESCRIPTION)
        if kind in (_SUB_COMMAND, _SUB_COMMAND_GROUP):
            if depth >= (1 if kind == _SUB_COMMAND_GROUP else 2):
                errors.add(
                    (*here, "type"),
                    "APPLICATION_COMMAND_OPTION_TYPE_INVALID",
                    "Sub-command groups cannot be nested this deep",
                )
            _check_command_options(option.get("options"), (*here, "options"), errors, depth + 1)
            continue
        if option.get("required"):
            if optional_seen:
                errors.add(
                    (*here, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        choices = option.get("choices") or []
        if len(choices) > MAX_CHOICES:
            errors.too_long((*here, "choices"), MAX_CHOICES)
        for number, choice in enumerate(choices):
            if not 1 <= _text_len(choice.get("name")) <= 100:
                errors.add(
                    (*here, "choices", number, "name"),
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                )
            value = choice.get("value")
            if isinstance(value, str) and len(value) > 100:
                errors.too_long((*here, "choices", number, "value"), 100)
        if choices and option.get("autocomplete"):
            errors.add(
                (*here, "autocomplete"),
                "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                "Autocomplete cannot be set with choices",
            )


# --------------------------------------------------------------------------------------------
# The emulator


class DiscordEmulator:
    """An in-memory Discord REST API and Gateway for one bot application.

    Use ``async with DiscordEmulator() as emu:`` and ``with emu.redirect_discord():`` (or set
    ``discord.http.Route.BASE = emu.api_url`` and ``DiscordWebSocket.DEFAULT_GATEWAY``
    yourself).  Tests build the world (``add_guild``, ``add_user``, ``add_member``,
    ``add_role``), act as users (``send_message``, ``slash``, ``click``, ``select``,
    ``submit_modal``, ``autocomplete``) and inspect what the bot did (``calls``, ``messages``,
    ``responses``, ``commands``, ``gateway_log``, ``wait_for*``).

    ``clock`` drives every duration the emulator measures (call times, interaction deadlines,
    token lifetimes, rate-limit windows, retry deadlines), so tests can pass a clock they can
    move forward.  Timestamps and snowflakes use wall-clock time as Discord does.  Rate-limit
    windows must advance while discord.py sleeps ``retry_after`` for real, so a frozen clock
    and ``rate_limit``/``fail_next`` do not mix; a clock that follows ``time.monotonic`` plus
    an offset serves both.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
        interaction_ttl: float = 3.0,
        token_ttl: float = 15 * 60.0,
        heartbeat_interval: int = 41_250,
        valid_tokens: Iterable[str] | None = None,
        privileged_intents: int = INTENT_PRIVILEGED,
        replay_buffer: int = 10_000,
    ) -> None:
        self.host = host
        self.port = port
        self.clock = clock
        #: Seconds (on ``clock``) within which an interaction must get its first response.
        self.interaction_ttl = interaction_ttl
        #: Seconds (on ``clock``) an interaction token accepts followups and edits.
        self.token_ttl = token_ttl
        #: Milliseconds, sent in HELLO.
        self.heartbeat_interval = heartbeat_interval
        #: None accepts any token; otherwise others get 401 / gateway close 4004.
        self.valid_tokens: set[str] | None = None if valid_tokens is None else set(valid_tokens)
        #: The privileged intents enabled "in the developer portal"; asking for others
        #: closes the gateway with 4014.
        self.privileged_intents = privileged_intents
        self.replay_buffer = replay_buffer

        self.base_url = ""
        self.api_url = ""
        self.gateway_url = ""
        self.resume_gateway_url = ""

        self.users: dict[int, EmuUser] = {}
        self.guilds: dict[int, EmuGuild] = {}
        #: Uploaded attachments by id: their bytes, to check what a bot sent.
        self.uploads: dict[str, bytes] = {}
        #: Guild scheduled events by guild id, then event id (wire dicts).
        self.scheduled: dict[int, dict[str, dict[str, Any]]] = {}
        self.channels: dict[int, EmuChannel] = {}
        self.interactions: dict[int, EmuInteraction] = {}
        self.sessions: dict[str, GatewaySession] = {}
        #: IDENTIFY payloads received, in order.
        self.identifies: list[dict[str, Any]] = []
        #: PRESENCE_UPDATE payloads received.
        self.presences: list[dict[str, Any]] = []
        #: One entry per gateway connection: ``{"id", "path", "compress", "encoding", "v",
        #: "close_code", "closed_by"}`` ("client" or "emulator"; None while open).
        self.connections: list[dict[str, Any]] = []
        self.throttles: list[Throttle] = []
        self.early_retries: list[EarlyRetry] = []
        #: 401, 403 and 429 answers: Discord bans a token after 10,000 in 10 minutes.
        self.invalid_requests = 0

        self._calls: _Feed[Call] = _Feed()
        self._responses: _Feed[EmuResponse] = _Feed()
        self._frames: _Feed[GatewayFrame] = _Feed()
        self._commands: dict[int | None, dict[tuple[int, str], dict[str, Any]]] = {}
        self._messages: dict[int, dict[int, dict[str, Any]]] = {}
        self._message_channel: dict[int, int] = {}
        self._allowed_mentions: dict[int, dict[str, Any] | None] = {}
        self._dm_channels: dict[int, int] = {}
        self._nonces: dict[tuple[int, str], int] = {}
        self._by_token: dict[str, EmuInteraction] = {}
        self._modals: list[_Modal] = []
        self._connections: dict[int, _Connection] = {}
        self._connection_ids = itertools.count(1)
        self._token_prefix = secrets.token_hex(4)
        self._last_id = 0
        self._runner: web.AppRunner | None = None

        self._penalties: dict[tuple[str, str], Throttle] = {}
        self._route_limit: int | None = None
        self._global_limit: int | None = None
        self._buckets: dict[str, _Bucket] = {}
        self._global_windows: dict[str, _Bucket] = {}
        self._faults: list[_Fault] = []

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on ``host`` (a free port unless ``port`` was given) and set the URLs."""
        if self._runner is not None:
            raise RuntimeError("DiscordEmulator is already running")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", r"/api/v{version:\d+}/{tail:.*}", self._handle_rest)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway/resume", self._gateway)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port).start()
        self._runner = runner
        port = runner.addresses[0][1]
        self.base_url = f"http://{self.host}:{port}"
        self.api_url = f"{self.base_url}/api/v{API_VERSION}"
        self.gateway_url = f"ws://{self.host}:{port}/gateway"
        self.resume_gateway_url = f"ws://{self.host}:{port}/gateway/resume"

    async def stop(self) -> None:
        """Close gateway connections and shut the server down; the state is kept."""
        if self._runner is None:
            return
        for conn in list(self._connections.values()):
            await conn.close(1001, "emulator stopping")
        try:
            await self._runner.cleanup()
        finally:
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @contextlib.contextmanager
    def redirect_discord(self) -> Iterator[None]:
        """Point discord.py's REST base and default gateway at this emulator, then restore."""
        # Imported here: only tests that drive discord.py need it.
        import discord.gateway
        import discord.http
        import yarl

        route = discord.http.Route
        socket = discord.gateway.DiscordWebSocket
        old_base, old_gateway = route.BASE, socket.DEFAULT_GATEWAY
        route.BASE = self.api_url
        socket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            route.BASE = old_base
            socket.DEFAULT_GATEWAY = old_gateway

    # ---- world setup -----------------------------------------------------------------------

    def _next_id(self) -> int:
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        if candidate <= self._last_id:
            candidate = self._last_id + 1
        self._last_id = candidate
        return candidate

    def add_user(
        self,
        user_id: int,
        username: str,
        global_name: str | None = None,
        locale: str = "en-US",
        dms_open: bool = True,
    ) -> EmuUser:
        if user_id == BOT_ID:
            raise ValueError(f"{BOT_ID} is the bot's id")
        user = EmuUser(user_id, username, global_name, locale, dms_open)
        self.users[user_id] = user
        return user

    def add_guild(
        self,
        guild_id: int,
        name: str,
        channels: Iterable[int | tuple[int, str] | dict[str, Any] | EmuChannel] = (),
        owner_id: int | None = None,
        *,
        locale: str = "en-US",
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
    ) -> EmuGuild:
        """Register a guild the bot is in, with @everyone (id = guild id) and the bot's role.

        ``channels`` items are ids (named ``channel-<id>``), ``(id, name)`` pairs, dicts with
        ``id``, ``name`` and optionally ``type``, ``topic``, ``parent_id``, ``position``,
        ``permission_overwrites``, or ``EmuChannel`` objects.  The owner, if given, must be
        (and is made) a member.
        """
        joined = _iso()
        guild = EmuGuild(guild_id, name, owner_id or BOT_ID, locale, joined_at=joined)
        guild.roles[guild_id] = EmuRole(guild_id, "@everyone", everyone_permissions)
        bot_role = EmuRole(self._next_id(), BOT_USERNAME, bot_permissions, 1, managed=True)
        guild.roles[bot_role.id] = bot_role
        guild.members[BOT_ID] = EmuMember(BOT_ID, [bot_role.id], None, joined)
        self.guilds[guild_id] = guild
        for position, spec in enumerate(channels):
            self.add_channel(guild_id, spec, position=position)
        if owner_id is not None and owner_id != BOT_ID:
            self.add_member(guild_id, owner_id)
        return guild

    def add_channel(
        self,
        guild_id: int,
        spec: int | tuple[int, str] | dict[str, Any] | EmuChannel,
        *,
        position: int | None = None,
    ) -> EmuChannel:
        guild = self._guild(guild_id)
        if isinstance(spec, EmuChannel):
            channel = spec
            channel.guild_id = guild_id
        elif isinstance(spec, int):
            channel = EmuChannel(spec, 0, f"channel-{spec}", guild_id)
        elif isinstance(spec, tuple):
            channel = EmuChannel(spec[0], 0, spec[1], guild_id)
        else:
            known = {
                "id",
                "type",
                "name",
                "position",
                "topic",
                "parent_id",
                "permission_overwrites",
                "nsfw",
            }
            channel = EmuChannel(
                int(spec["id"]),
                int(spec.get("type", 0)),
                spec.get("name", f"channel-{spec['id']}"),
                guild_id,
                int(spec.get("position", 0)),
                spec.get("topic"),
                spec.get("parent_id"),
                list(spec.get("permission_overwrites", [])),
                bool(spec.get("nsfw", False)),
                extra={k: v for k, v in spec.items() if k not in known},
            )
        if position is not None and not (isinstance(spec, dict) and "position" in spec):
            channel.position = position
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        return channel

    def add_role(
        self,
        guild_id: int,
        role_id: int,
        name: str,
        permissions: int = 0,
        *,
        position: int | None = None,
        mentionable: bool = False,
        color: int = 0,
        hoist: bool = False,
    ) -> EmuRole:
        guild = self._guild(guild_id)
        role = EmuRole(
            role_id,
            name,
            permissions,
            len(guild.roles) if position is None else position,
            color,
            hoist,
            mentionable,
        )
        guild.roles[role_id] = role
        return role

    def add_member(
        self, guild_id: int, user_id: int, roles: Iterable[int] = (), *, nick: str | None = None
    ) -> EmuMember:
        guild = self._guild(guild_id)
        self._user(user_id)
        for role_id in roles:
            if role_id not in guild.roles:
                raise KeyError(f"guild {guild_id} has no role {role_id}; add_role() it first")
        member = EmuMember(user_id, list(roles), nick, _iso())
        guild.members[user_id] = member
        return member

    # ---- wire objects ----------------------------------------------------------------------

    @staticmethod
    def _bot_user() -> dict[str, Any]:
        return {
            "id": str(BOT_ID),
            "username": BOT_USERNAME,
            "global_name": None,
            "discriminator": "0",
            "avatar": None,
            "bot": True,
            "public_flags": 0,
            "flags": 0,
            "verified": True,
            "mfa_enabled": False,
            "locale": "en-US",
            "email": None,
        }

    def _user_api(self, user_id: int) -> dict[str, Any]:
        if user_id == BOT_ID:
            return {
                "id": str(BOT_ID),
                "username": BOT_USERNAME,
                "global_name": None,
                "discriminator": "0",
                "avatar": None,
                "bot": True,
                "public_flags": 0,
            }
        return self._user(user_id).to_api()

    def _member_api(
        self, guild: EmuGuild, member: EmuMember, *, with_user: bool = True
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(role) for role in member.roles],
            "nick": member.nick,
            "avatar": None,
            "banner": None,
            "joined_at": member.joined_at or guild.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self._user_api(member.user_id)
        return data

    def _channel_api(self, channel: EmuChannel) -> dict[str, Any]:
        if channel.type == 1:
            assert channel.recipient_id is not None
            return {
                "id": str(channel.id),
                "type": 1,
                "last_message_id": _str_or_none(channel.last_message_id),
                "flags": 0,
                "recipients": [self._user_api(channel.recipient_id)],
            }
        data: dict[str, Any] = {
            "id": str(channel.id),
            "type": channel.type,
            "guild_id": str(channel.guild_id),
            "name": channel.name,
            "position": channel.position,
            "permission_overwrites": channel.permission_overwrites,
            "parent_id": _str_or_none(channel.parent_id),
            "flags": 0,
        }
        if channel.type in (0, 5):
            data.update(
                topic=channel.topic,
                nsfw=channel.nsfw,
                rate_limit_per_user=0,
                last_message_id=_str_or_none(channel.last_message_id),
            )
        elif channel.type in (2, 13):
            data.update(bitrate=64000, user_limit=0, rtc_region=None, nsfw=channel.nsfw)
        data.update(channel.extra)
        return data

    def _guild_base(self, guild: EmuGuild) -> dict[str, Any]:
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": guild.locale,
            "features": list(guild.features),
            "roles": [role.to_api() for role in guild.roles.values()],
            "emojis": [],
            "stickers": [],
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "application_id": None,
        }

    def _guild_create(self, guild: EmuGuild, intents: int) -> dict[str, Any]:
        members = (
            guild.members.values() if intents & INTENT_GUILD_MEMBERS else [guild.members[BOT_ID]]
        )
        return {
            **self._guild_base(guild),
            "joined_at": guild.joined_at,
            "large": len(guild.members) >= 250,
            "unavailable": False,
            "member_count": len(guild.members),
            "members": [self._member_api(guild, member) for member in members],
            "channels": [self._channel_api(channel) for channel in guild.channels.values()],
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def _application_api(self) -> dict[str, Any]:
        return {
            "id": str(APPLICATION_ID),
            "name": BOT_USERNAME,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": {
                "id": "1",
                "username": "owner",
                "global_name": None,
                "discriminator": "0",
                "avatar": None,
                "public_flags": 0,
            },
            "team": None,
            "bot": self._user_api(BOT_ID),
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "tags": [],
            "approximate_guild_count": len(self.guilds),
            "integration_types_config": {"0": {}},
        }

    # ---- permissions -----------------------------------------------------------------------

    def permissions_for(self, guild_id: int, user_id: int, channel_id: int | None = None) -> int:
        """Discord's permission computation: roles, administrator, then channel overwrites."""
        guild = self._guild(guild_id)
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        member = guild.members.get(user_id)
        perms = guild.roles[guild.id].permissions
        role_ids = member.roles if member is not None else []
        for role_id in role_ids:
            role = guild.roles.get(role_id)
            if role is not None:
                perms |= role.permissions
        if perms & PERM_ADMINISTRATOR:
            return ALL_PERMISSIONS
        channel = guild.channels.get(channel_id) if channel_id is not None else None
        if channel is None:
            return perms
        overwrites = {
            (str(o["id"]), int(o.get("type", 0))): o for o in channel.permission_overwrites
        }
        everyone = overwrites.get((str(guild.id), 0))
        if everyone:
            perms = (perms & ~_permission_bits(everyone.get("deny"))) | _permission_bits(
                everyone.get("allow")
            )
        allow = deny = 0
        for role_id in role_ids:
            over = overwrites.get((str(role_id), 0))
            if over:
                allow |= _permission_bits(over.get("allow"))
                deny |= _permission_bits(over.get("deny"))
        perms = (perms & ~deny) | allow
        own = overwrites.get((str(user_id), 1))
        if own:
            perms = (perms & ~_permission_bits(own.get("deny"))) | _permission_bits(
                own.get("allow")
            )
        if not perms & PERM_VIEW_CHANNEL:
            return 0
        return perms

    # ---- incoming: messages ----------------------------------------------------------------

    def ensure_dm_channel(self, user: EmuUser | int) -> EmuChannel:
        """The bot's DM channel with ``user``, created if needed (as POST /users/@me/channels)."""
        user_id = _id_of(user)
        self._user(user_id)
        channel_id = self._dm_channels.get(user_id)
        if channel_id is not None:
            return self.channels[channel_id]
        channel = EmuChannel(self._next_id(), 1, recipient_id=user_id)
        self.channels[channel.id] = channel
        self._dm_channels[user_id] = channel.id
        return channel

    async def send_message(
        self,
        user: EmuUser | int,
        channel_id: int | None,
        content: str,
        *,
        reply_to: dict[str, Any] | int | None = None,
        embeds: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The user posts ``content`` in a guild channel, or (``channel_id=None`` or their DM
        channel id) in their DM with the bot; MESSAGE_CREATE goes to the gateway.

        Returns the stored message.  Mentions in ``content`` (``<@id>``, ``<@&id>``,
        ``@everyone``) are resolved as Discord does for a user.
        """
        sender = self._user(_id_of(user))
        channel = (
            self.ensure_dm_channel(sender)
            if channel_id is None
            else self._known_channel(channel_id)
        )
        if channel.guild_id is not None:
            guild = self._guild(channel.guild_id)
            if sender.id not in guild.members:
                raise KeyError(f"user {sender.id} is not in guild {guild.id}; add_member() first")
        fields: dict[str, Any] = {"content": content, "embeds": embeds or []}
        if reply_to is not None:
            ref_id = _id_of(reply_to) if not isinstance(reply_to, int) else reply_to
            if ref_id not in self._messages.get(channel.id, {}):
                raise KeyError(f"message {ref_id} is not in channel {channel.id}")
            fields["message_reference"] = {"message_id": ref_id}
        message = self._store_message(channel, sender.id, fields, None)
        await self._announce(message, "MESSAGE_CREATE")
        return message

    # ---- incoming: interactions ------------------------------------------------------------

    async def dispatch_interaction(
        self,
        user: EmuUser | int,
        interaction_type: int,
        data: dict[str, Any],
        *,
        guild_id: int | None = None,
        channel_id: int | None = None,
        message: dict[str, Any] | None = None,
        locale: str | None = None,
        name: str = "",
    ) -> EmuInteraction:
        """Dispatch any INTERACTION_CREATE (no checks on ``data``: forge what clients cannot).

        Without ``channel_id`` in a DM (``guild_id=None``) the user's DM channel is used.
        """
        sender = self._user(_id_of(user))
        if guild_id is None:
            channel = (
                self.ensure_dm_channel(sender)
                if channel_id is None
                else self._known_channel(channel_id)
            )
        else:
            if channel_id is None:
                raise ValueError("guild interactions need a channel_id")
            channel = self._known_channel(channel_id)
            if channel.guild_id != guild_id:
                raise KeyError(f"channel {channel_id} is not in guild {guild_id}")
        interaction_id = self._next_id()
        token = f"{self._token_prefix}{interaction_id:x}{secrets.token_hex(8)}"
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(APPLICATION_ID),
            "type": interaction_type,
            "data": data,
            "token": token,
            "version": 1,
            "channel_id": str(channel.id),
            "locale": locale or sender.locale,
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if guild_id is not None:
            guild = self._guild(guild_id)
            member = guild.members.get(sender.id)
            if member is None:
                raise KeyError(f"user {sender.id} is not in guild {guild_id}; add_member() first")
            member_api = self._member_api(guild, member)
            member_api["permissions"] = str(self.permissions_for(guild_id, sender.id, channel.id))
            channel_api = self._channel_api(channel)
            channel_api["permissions"] = member_api["permissions"]
            payload.update(
                guild_id=str(guild_id),
                guild={"id": str(guild_id), "locale": guild.locale, "features": guild.features},
                guild_locale=guild.locale,
                member=member_api,
                channel=channel_api,
                app_permissions=str(self.permissions_for(guild_id, BOT_ID, channel.id)),
                authorizing_integration_owners={"0": str(guild_id)},
                context=0,
            )
        else:
            payload.update(
                user=sender.to_api(),
                channel=self._channel_api(channel),
                app_permissions=str(
                    PERM_ATTACH_FILES
                    | PERM_EMBED_LINKS
                    | PERM_MENTION_EVERYONE
                    | PERM_USE_EXTERNAL_EMOJIS
                ),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        if message is not None:
            payload["message"] = message
        record = EmuInteraction(
            interaction_id,
            token,
            interaction_type,
            sender.id,
            guild_id,
            channel.id,
            payload,
            self.clock(),
            name,
            message_id=int(message["id"]) if message is not None else None,
        )
        self.interactions[interaction_id] = record
        self._by_token[token] = record
        record.delivered = await self._broadcast("INTERACTION_CREATE", payload, guild_id=guild_id)
        return record

    def command(
        self, name: str, guild_id: int | None = None, command_type: int = 1
    ) -> dict[str, Any] | None:
        """The registered command ``name`` visible in ``guild_id``: guild scope, then global."""
        for scope in (guild_id, None) if guild_id is not None else (None,):
            found = self._commands.get(scope, {}).get((command_type, name))
            if found is not None:
                return found
        return None

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The commands registered globally (``guild_id=None``) or for one guild."""
        return list(self._commands.get(guild_id, {}).values())

    async def slash(
        self,
        user: EmuUser | int,
        guild_id: int | None,
        channel_id: int | None,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        locale: str | None = None,
    ) -> EmuInteraction:
        """The user runs ``/name`` (``"group sub"`` for subcommands) with ``options``.

        With the command registered, option types come from its schema and the options are
        checked as the Discord client would (unknown or missing required options, choices,
        ranges raise ``ValueError``); the data carries the registered id and, for guild
        commands, ``guild_id``.  Unregistered commands get a made-up id and inferred types.
        Users, channels, roles (``EmuUser``/ids) are added to ``resolved``.
        """
        data = self._command_data(name, options or {}, guild_id, focused=None)
        return await self.dispatch_interaction(
            user,
            INTERACTION_APPLICATION_COMMAND,
            data,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            name=name,
        )

    async def autocomplete(
        self,
        user: EmuUser | int,
        guild_id: int | None,
        channel_id: int | None,
        name: str,
        options: Mapping[str, Any],
        focused: str | None = None,
        *,
        locale: str | None = None,
    ) -> EmuInteraction:
        """The user is typing option ``focused`` (default: the last one) of ``/name``."""
        if not options:
            raise ValueError("autocomplete needs at least the focused option")
        focused = focused or list(options)[-1]
        data = self._command_data(name, options, guild_id, focused=focused)
        return await self.dispatch_interaction(
            user,
            INTERACTION_AUTOCOMPLETE,
            data,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            name=name,
        )

    async def click(
        self, user: EmuUser | int, message: dict[str, Any] | int, custom_id: str
    ) -> EmuInteraction:
        """The user presses the button ``custom_id`` on the message's current state.

        Only enabled, non-link buttons that are on the message can be pressed (LookupError
        otherwise); ``forge_component`` sends anything.
        """
        current = self._current_message(message)
        button = next(
            (
                c
                for c in walk_components(current.get("components"))
                if c.get("type") == 2 and c.get("custom_id") == custom_id
            ),
            None,
        )
        if button is None:
            raise LookupError(
                f"message {current['id']} has no button {custom_id!r}; "
                f"buttons: {self.buttons(current)}"
            )
        if button.get("disabled"):
            raise LookupError(f"button {custom_id!r} on message {current['id']} is disabled")
        return await self.forge_component(user, current, custom_id, 2)

    async def select(
        self,
        user: EmuUser | int,
        message: dict[str, Any] | int,
        custom_id: str,
        values: list[str],
    ) -> EmuInteraction:
        """The user picks ``values`` in the select menu ``custom_id`` on the message."""
        current = self._current_message(message)
        menu = next(
            (
                c
                for c in walk_components(current.get("components"))
                if c.get("type") in _SELECT_TYPES and c.get("custom_id") == custom_id
            ),
            None,
        )
        if menu is None:
            raise LookupError(f"message {current['id']} has no select menu {custom_id!r}")
        if menu.get("disabled"):
            raise LookupError(f"select menu {custom_id!r} is disabled")
        low, high = menu.get("min_values", 1), menu.get("max_values", 1)
        if not low <= len(values) <= high:
            raise ValueError(f"select {custom_id!r} takes {low}..{high} values, got {len(values)}")
        if menu["type"] == 3:
            allowed = {option["value"] for option in menu.get("options", [])}
            unknown = [value for value in values if value not in allowed]
            if unknown:
                raise ValueError(f"select {custom_id!r} has no options {unknown}")
        return await self.forge_component(user, current, custom_id, menu["type"], values=values)

    async def forge_component(
        self,
        user: EmuUser | int,
        message: dict[str, Any] | int,
        custom_id: str,
        component_type: int = 2,
        *,
        values: list[str] | None = None,
    ) -> EmuInteraction:
        """A MESSAGE_COMPONENT interaction with any custom_id (a modified client's click)."""
        if isinstance(message, dict) and int(message["id"]) not in self._message_channel:
            current = message
        else:
            current = self._current_message(message)
        channel = self._known_channel(int(current["channel_id"]))
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = list(values)
            if component_type in (5, 6, 7, 8):
                data["resolved"] = self._resolved_for_ids(values, channel.guild_id)
        return await self.dispatch_interaction(
            user,
            INTERACTION_MESSAGE_COMPONENT,
            data,
            guild_id=channel.guild_id,
            channel_id=channel.id,
            message=current,
            name=custom_id,
        )

    async def submit_modal(
        self,
        user: EmuUser | int,
        custom_id: str | None,
        values: Mapping[str, str | list[str]],
    ) -> EmuInteraction:
        """The user fills in and submits the latest modal ``custom_id`` (None: any) shown
        to them.

        ``values`` are keyed by input custom_id or label.  The submission mirrors the
        modal's layout (action rows or labels), and, like the Discord client, refuses
        unknown fields, empty required fields and lengths outside min/max (ValueError).
        """
        user_id = _id_of(user)
        modal = next(
            (
                m
                for m in reversed(self._modals)
                if m.user_id == user_id and custom_id in (None, m.custom_id)
            ),
            None,
        )
        if modal is None:
            shown = [m.custom_id for m in self._modals if m.user_id == user_id]
            raise LookupError(f"no open modal {custom_id!r} for user {user_id}; open: {shown}")
        remaining = dict(values)
        components: list[dict[str, Any]] = []
        next_id = itertools.count(1)
        for top in modal.components:
            kind = top.get("type")
            if kind == 1:
                inner = (top.get("components") or [{}])[0]
                label = inner.get("label")
                row_id = top.get("id") or next(next_id)
                item = self._submitted_item(inner, label, remaining, next_id)
                components.append({"type": 1, "id": row_id, "components": [item]})
            elif kind == 18:
                inner = top.get("component") or {}
                label_id = top.get("id") or next(next_id)
                item = self._submitted_item(inner, top.get("label"), remaining, next_id)
                components.append({"type": 18, "id": label_id, "component": item})
            else:
                components.append({"type": kind, "id": top.get("id") or next(next_id)})
        if remaining:
            raise ValueError(f"modal {modal.custom_id!r} has no fields {sorted(remaining)}")
        self._modals.remove(modal)
        source = modal.source
        message = None
        if source.message_id is not None and source.message_id in self._message_channel:
            message = self._current_message(source.message_id)
        return await self.dispatch_interaction(
            user_id,
            INTERACTION_MODAL_SUBMIT,
            {"custom_id": modal.custom_id, "components": components},
            guild_id=source.guild_id,
            channel_id=source.channel_id,
            message=message,
            locale=source.payload.get("locale"),
            name=modal.custom_id,
        )

    @staticmethod
    def _submitted_item(
        inner: dict[str, Any],
        label: str | None,
        remaining: dict[str, str | list[str]],
        ids: Iterator[int],
    ) -> dict[str, Any]:
        custom_id = inner.get("custom_id")
        key = custom_id if custom_id in remaining else label if label in remaining else None
        value = remaining.pop(key) if key is not None else None
        kind = inner.get("type")
        item: dict[str, Any] = {"type": kind, "id": inner.get("id") or next(ids)}
        item["custom_id"] = custom_id
        if kind == 4:
            text = "" if value is None else str(value)
            if inner.get("required", True) and not text:
                raise ValueError(f"modal field {label or custom_id!r} is required")
            if text:
                low, high = inner.get("min_length"), inner.get("max_length")
                if low is not None and len(text) < low:
                    raise ValueError(f"modal field {label or custom_id!r} needs {low}+ characters")
                if high is not None and len(text) > high:
                    raise ValueError(f"modal field {label or custom_id!r} takes {high} characters")
            item["value"] = text
        else:
            picked = [] if value is None else [value] if isinstance(value, str) else list(value)
            if inner.get("required", True) and not picked:
                raise ValueError(f"modal field {label or custom_id!r} is required")
            item["values"] = picked
        return item

    def _command_data(
        self,
        name: str,
        options: Mapping[str, Any],
        guild_id: int | None,
        focused: str | None,
    ) -> dict[str, Any]:
        parts = name.split()
        if not parts:
            raise ValueError("empty command name")
        command = self.command(parts[0], guild_id)
        resolved: dict[str, dict[str, Any]] = {}
        schema: list[dict[str, Any]] | None = None if command is None else command.get("options")
        if command is not None and schema is None:
            schema = []
        leaf = self._leaf_options(parts, options, schema, guild_id, focused, resolved)
        data: dict[str, Any] = {
            "id": str(command["id"]) if command else str(self._next_id()),
            "name": parts[0],
            "type": 1,
        }
        if command is not None and command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        if leaf:
            data["options"] = leaf
        if resolved:
            data["resolved"] = resolved
        return data

    def _leaf_options(
        self,
        parts: list[str],
        options: Mapping[str, Any],
        schema: list[dict[str, Any]] | None,
        guild_id: int | None,
        focused: str | None,
        resolved: dict[str, dict[str, Any]],
    ) -> list[dict[str, Any]]:
        # Walk down subcommand groups and subcommands.
        wrappers: list[tuple[int, str]] = []
        for sub in parts[1:]:
            found = None
            if schema is not None:
                found = next((o for o in schema if o.get("name") == sub), None)
                if found is None or found.get("type") not in (_SUB_COMMAND, _SUB_COMMAND_GROUP):
                    raise ValueError(f"/{' '.join(parts)}: no subcommand {sub!r}")
                schema = found.get("options") or []
            kind = found["type"] if found else (_SUB_COMMAND if sub == parts[-1] else 2)
            wrappers.append((kind, sub))
        if schema is not None and any(
            o.get("type") in (_SUB_COMMAND, _SUB_COMMAND_GROUP) for o in schema
        ):
            raise ValueError(f"/{' '.join(parts)} needs a subcommand")
        built = [
            self._option(name, value, schema, guild_id, name == focused, resolved)
            for name, value in options.items()
        ]
        if schema is not None and focused is None:
            missing = [o["name"] for o in schema if o.get("required") and o["name"] not in options]
            if missing:
                raise ValueError(f"/{' '.join(parts)} is missing required options {missing}")
        for kind, sub in reversed(wrappers):
            built = [{"type": kind, "name": sub, "options": built}]
        return built

    def _option(
        self,
        name: str,
        value: Any,
        schema: list[dict[str, Any]] | None,
        guild_id: int | None,
        is_focused: bool,
        resolved: dict[str, dict[str, Any]],
    ) -> dict[str, Any]:
        spec = None
        if schema is not None:
            spec = next((o for o in schema if o.get("name") == name), None)
            if spec is None:
                known = [o.get("name") for o in schema]
                raise ValueError(f"command has no option {name!r}; options: {known}")
        kind = spec["type"] if spec else _infer_option_type(value)
        option: dict[str, Any] = {"name": name, "type": kind}
        if is_focused:
            option["value"] = str(value)
            option["focused"] = True
            return option
        if kind in (_USER, _CHANNEL, _ROLE, _MENTIONABLE):
            target = _id_of(value)
            option["value"] = str(target)
            self._resolve_target(kind, target, guild_id, resolved)
            return option
        if kind == _STRING:
            value = str(value)
            if spec:
                low, high = spec.get("min_length"), spec.get("max_length")
                if (low is not None and len(value) < low) or (
                    high is not None and len(value) > high
                ):
                    raise ValueError(f"option {name!r}: length outside {low}..{high}")
        elif kind == _INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"option {name!r} is an integer, got {value!r}")
        elif kind == _NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"option {name!r} is a number, got {value!r}")
        elif kind == _BOOLEAN:
            if not isinstance(value, bool):
                raise ValueError(f"option {name!r} is a boolean, got {value!r}")
        elif kind == _ATTACHMENT:
            raise ValueError("attachment options are not emulated")
        if spec and kind in (_INTEGER, _NUMBER):
            low, high = spec.get("min_value"), spec.get("max_value")
            if (low is not None and value < low) or (high is not None and value > high):
                raise ValueError(f"option {name!r}: {value} outside {low}..{high}")
        if spec and spec.get("choices"):
            allowed = [choice["value"] for choice in spec["choices"]]
            if value not in allowed:
                raise ValueError(f"option {name!r}: {value!r} is not one of {allowed}")
        option["value"] = value
        return option

    def _resolve_target(
        self, kind: int, target: int, guild_id: int | None, resolved: dict[str, dict[str, Any]]
    ) -> None:
        guild = self.guilds.get(guild_id) if guild_id is not None else None
        key = str(target)
        if kind in (_USER, _MENTIONABLE) and (target in self.users or target == BOT_ID):
            resolved.setdefault("users", {})[key] = self._user_api(target)
            if guild is not None and target in guild.members:
                member = self._member_api(guild, guild.members[target], with_user=False)
                member["permissions"] = str(self.permissions_for(guild.id, target))
                resolved.setdefault("members", {})[key] = member
            return
        if kind in (_ROLE, _MENTIONABLE) and guild is not None and target in guild.roles:
            resolved.setdefault("roles", {})[key] = guild.roles[target].to_api()
            return
        if kind == _CHANNEL and target in self.channels:
            channel = self._channel_api(self.channels[target])
            channel["permissions"] = str(
                self.permissions_for(guild.id, BOT_ID, target) if guild else 0
            )
            resolved.setdefault("channels", {})[key] = channel
            return
        raise KeyError(f"option target {target} is unknown to the emulator")

    def _resolved_for_ids(self, values: list[str], guild_id: int | None) -> dict[str, Any]:
        resolved: dict[str, dict[str, Any]] = {}
        for value in values:
            target = int(value)
            if target in self.users or target == BOT_ID:
                kind = _USER
            elif target in self.channels:
                kind = _CHANNEL
            else:
                kind = _ROLE
            self._resolve_target(kind, target, guild_id, resolved)
        return resolved

    # ---- incoming: raw gateway -------------------------------------------------------------

    async def dispatch(
        self, event: str, data: dict[str, Any], *, guild_id: int | None = None, intent: int = 0
    ) -> bool:
        """Send any DISPATCH event to the sessions (that have ``intent``); True if one got it."""
        return await self._broadcast(event, data, guild_id=guild_id, intent=intent)

    async def announce_guild(self, guild_id: int) -> None:
        """Dispatch GUILD_CREATE for ``guild_id`` (the bot joined it or it became available)."""
        guild = self._guild(guild_id)
        for session in list(self.sessions.values()):
            if session.intents & INTENT_GUILDS and self._in_shard(session, guild_id):
                await self._send_dispatch(
                    session, "GUILD_CREATE", self._guild_create(guild, session.intents)
                )

    # ---- gateway control -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Some gateway session is attached to a live connection."""
        return any(session.connected for session in self.sessions.values())

    async def disconnect(self, code: int = 4000, *, forget_sessions: bool = False) -> None:
        """Drop every gateway connection (close ``code``).  Sessions stay resumable unless
        ``forget_sessions``; then the client's RESUME gets INVALID_SESSION and re-identifies."""
        if forget_sessions:
            self.sessions.clear()
        for conn in list(self._connections.values()):
            await conn.close(code, "emulator disconnect")

    async def restart_gateway(self) -> None:
        """What a gateway node restart looks like: op 7 RECONNECT on every connection; the
        client closes and RESUMEs at ``resume_gateway_url``."""
        for conn in list(self._connections.values()):
            await self._send_op(conn, 7, None)

    async def invalidate_sessions(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; unless ``resumable`` the sessions are forgotten and the
        client must IDENTIFY again (a new READY and GUILD_CREATEs follow)."""
        for conn in list(self._connections.values()):
            session = conn.session
            if session is not None and not resumable:
                self.sessions.pop(session.id, None)
            await self._send_op(conn, 9, resumable)

    # ---- faults ----------------------------------------------------------------------------

    def rate_limit(
        self,
        per_route_per_second: int | None = None,
        global_per_second: int | None = None,
    ) -> None:
        """Answer requests over these fixed one-second windows with 429.

        ``per_route_per_second`` counts per bucket (route + channel/guild/webhook), as
        Discord does, and is advertised in X-RateLimit headers (discord.py then waits on its
        own when Remaining hits 0); ``global_per_second`` counts all bot-authenticated
        requests of a token (interaction endpoints are exempt) and is not advertised, so it
        surfaces as 429 ``global: true``.  None disables one; calling again resets windows.
        """
        self._route_limit = per_route_per_second
        self._global_limit = global_per_second
        self._buckets.clear()
        self._global_windows.clear()

    def fail_next(
        self,
        route: str | None = None,
        *,
        count: int = 1,
        retry_after: float = 0.2,
        global_: bool = False,
    ) -> None:
        """Answer the next ``count`` requests to ``route`` with 429 ``retry_after``.

        ``route`` is a template (``"POST /channels/{channel_id}/messages"``), a concrete
        ``"POST /channels/5/messages"``, or None for any route.  Retrying before
        ``retry_after`` gets another 429 and is recorded in ``early_retries``.
        """
        self._faults.append(_Fault(route, retry_after, global_, remaining=count))

    def fail_every(
        self, n: int | None, *, route: str | None = None, retry_after: float = 0.2
    ) -> None:
        """Answer every ``n``-th request to ``route`` (None: any) with 429; ``n=None`` stops."""
        self._faults = [fault for fault in self._faults if fault.every is None]
        if n:
            self._faults.append(_Fault(route, retry_after, False, every=n))

    # ---- inspection ------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        return self._calls.items

    @property
    def responses(self) -> list[EmuResponse]:
        return self._responses.items

    @property
    def gateway_log(self) -> list[GatewayFrame]:
        return self._frames.items

    def calls_to(self, route: str) -> list[Call]:
        return [call for call in self.calls if _call_matches(call, route)]

    def messages(self, channel_id: int) -> list[dict[str, Any]]:
        """Messages in the channel, oldest first, in their latest state (Discord's wire
        format).  Each is a snapshot: edits store a new dict.  Ephemeral interaction
        responses are included (``flags & 64``); deleted messages are gone."""
        return list(self._messages.get(channel_id, {}).values())

    def message(self, message_id: int) -> dict[str, Any]:
        channel_id = self._message_channel.get(message_id)
        if channel_id is None:
            raise KeyError(f"no message {message_id}")
        return self._messages[channel_id][message_id]

    def last_message(self, channel_id: int) -> dict[str, Any] | None:
        history = self._messages.get(channel_id)
        return next(reversed(history.values())) if history else None

    def allowed_mentions_of(self, message: dict[str, Any] | int) -> dict[str, Any] | None:
        """The ``allowed_mentions`` the bot sent with the message's latest create/edit."""
        message_id = message if isinstance(message, int) else int(message["id"])
        return self._allowed_mentions.get(message_id)

    def dm_channel_of(self, user_id: int) -> int | None:
        """The id of the bot's DM channel with the user, once one was opened."""
        return self._dm_channels.get(user_id)

    @staticmethod
    def buttons(message: dict[str, Any]) -> list[tuple[str | None, str | None]]:
        """Buttons on the message: ``(label, custom_id or url)``."""
        return [
            (c.get("label"), c.get("custom_id", c.get("url")))
            for c in walk_components(message.get("components"))
            if c.get("type") == 2
        ]

    def find_button(self, message: dict[str, Any], label: str) -> str:
        """The custom_id of the first button whose label contains ``label``."""
        for text, custom_id in self.buttons(message):
            if text is not None and label in text and custom_id is not None:
                return custom_id
        raise LookupError(f"no button labelled {label!r}; buttons: {self.buttons(message)}")

    async def wait_for(
        self,
        what: str | Callable[[Call], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - mirrors asyncio.wait_for, reads well in tests
        *,
        since: int = 0,
    ) -> Call:
        """The first call (from index ``since`` of ``calls``) matching ``what``: a route
        template ``"POST /channels/{channel_id}/messages"``, a concrete
        ``"POST /channels/5/messages"`` or a predicate.  Pass ``since=len(emu.calls)`` to wait
        for a new one."""
        if isinstance(what, str):
            route = what

            def predicate(call: Call) -> bool:
                return _call_matches(call, route)

            described = repr(what)
        else:
            predicate, described = what, getattr(what, "__qualname__", repr(what))
        return await self._calls.wait(predicate, timeout, since, described)

    async def wait_for_response(
        self,
        what: EmuInteraction | int | Callable[[EmuResponse], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        since: int = 0,
        kind: str | None = None,
    ) -> EmuResponse:
        """The first accepted response (from index ``since`` of ``responses``) to the
        interaction (record or id), or matching a predicate; ``kind`` narrows to
        "callback", "followup", "edit" or "delete"."""
        if isinstance(what, EmuInteraction | int):
            target = what.id if isinstance(what, EmuInteraction) else what

            def predicate(response: EmuResponse) -> bool:
                return response.interaction.id == target and kind in (None, response.kind)

            described = f"response to interaction {target}"
        elif what is None:

            def predicate(response: EmuResponse) -> bool:
                return kind in (None, response.kind)

            described = "any response"
        else:
            user_predicate = what

            def predicate(response: EmuResponse) -> bool:
                return kind in (None, response.kind) and user_predicate(response)

            described = getattr(what, "__qualname__", repr(what))
        return await self._responses.wait(predicate, timeout, since, described)

    async def wait_for_gateway(
        self,
        what: str | Callable[[GatewayFrame], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        since: int = 0,
    ) -> GatewayFrame:
        """The first gateway frame (from index ``since`` of ``gateway_log``) named ``what``
        (an event such as "READY"/"RESUMED" or an opcode name such as "IDENTIFY"/"RESUME"),
        or matching a predicate."""
        if isinstance(what, str):
            name = what

            def predicate(frame: GatewayFrame) -> bool:
                return frame.name == name

            described = repr(what)
        else:
            predicate, described = what, getattr(what, "__qualname__", repr(what))
        return await self._frames.wait(predicate, timeout, since, described)

    # ---- lookups ---------------------------------------------------------------------------

    def _user(self, user_id: int) -> EmuUser:
        try:
            return self.users[user_id]
        except KeyError:
            raise KeyError(f"unknown user {user_id}; add_user() them first") from None

    def _guild(self, guild_id: int) -> EmuGuild:
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise KeyError(f"unknown guild {guild_id}; add_guild() it first") from None

    def _known_channel(self, channel_id: int) -> EmuChannel:
        try:
            return self.channels[channel_id]
        except KeyError:
            raise KeyError(f"unknown channel {channel_id}") from None

    def _current_message(self, message: dict[str, Any] | int) -> dict[str, Any]:
        message_id = message if isinstance(message, int) else int(message["id"])
        channel_id = self._message_channel.get(message_id)
        if channel_id is None:
            raise LookupError(f"message {message_id} no longer exists")
        return self._messages[channel_id][message_id]

    # ---- messages --------------------------------------------------------------------------

    def _mentions(
        self,
        channel: EmuChannel,
        author_id: int,
        content: str,
        allowed: dict[str, Any] | None,
        replied_author: int | None,
    ) -> tuple[list[int], list[int], bool]:
        """Users, roles and @everyone that actually ping, as Discord resolves them."""
        parse = ["users", "roles", "everyone"] if allowed is None else allowed.get("parse") or []
        explicit_users = {int(u) for u in (allowed or {}).get("users") or []}
        explicit_roles = {int(r) for r in (allowed or {}).get("roles") or []}
        guild = self.guilds.get(channel.guild_id) if channel.guild_id is not None else None
        users: list[int] = []
        for match in _USER_MENTION_RE.finditer(content):
            user_id = int(match.group(1))
            if user_id in users or (user_id not in self.users and user_id != BOT_ID):
                continue
            if "users" in parse or user_id in explicit_users:
                users.append(user_id)
        if replied_author is not None and replied_author not in users:
            if allowed is None or allowed.get("replied_user", False):
                users.append(replied_author)
        roles: list[int] = []
        everyone = False
        if guild is not None:
            for match in _ROLE_MENTION_RE.finditer(content):
                role_id = int(match.group(1))
                if role_id in roles or role_id not in guild.roles:
                    continue
                if "roles" in parse or role_id in explicit_roles:
                    roles.append(role_id)
            if "everyone" in parse and _EVERYONE_RE.search(content):
                everyone = bool(
                    self.permissions_for(guild.id, author_id, channel.id) & PERM_MENTION_EVERYONE
                )
        return users, roles, everyone

    def _validate_fields(
        self,
        body: Any,
        files: list[dict[str, Any]],
        errors: _FormErrors,
        *,
        allowed_flags: int,
    ) -> dict[str, Any]:
        """Check a create/edit message body; returns the fields it sets."""
        if body is None:
            body = {}
        if not isinstance(body, dict):
            errors.add((), "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
            errors.raise_if_any()
        fields: dict[str, Any] = {}
        flags = body.get("flags")
        if flags is not None:
            if not isinstance(flags, int) or flags & ~allowed_flags:
                errors.add(("flags",), "MESSAGE_FLAGS_INVALID", "Invalid message flags")
                flags = 0
            fields["flags"] = flags
        if "content" in body:
            content = body["content"]
            if content is not None and not isinstance(content, str):
                errors.add(("content",), "BASE_TYPE_STRING", "Must be a string.")
            elif content is not None and len(content) > MAX_CONTENT_LENGTH:
                errors.too_long(("content",), MAX_CONTENT_LENGTH)
            fields["content"] = content or ""
        if "embeds" in body:
            fields["embeds"] = _check_embeds(body["embeds"] or [], errors)
        if "components" in body:
            fields["components"] = _check_components(body["components"] or [], flags or 0, errors)
        if "allowed_mentions" in body:
            fields["allowed_mentions"] = _check_allowed_mentions(body["allowed_mentions"], errors)
        if (flags or 0) & FLAG_IS_COMPONENTS_V2 and (body.get("content") or body.get("embeds")):
            errors.add(
                ("content",),
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                "The 'content' and 'embeds' fields cannot be used when using IS_COMPONENTS_V2",
            )
        if len(files) > MAX_FILES:
            errors.too_long(("files",), MAX_FILES)
        if sum(f["size"] for f in files) > ATTACHMENT_SIZE_LIMIT:
            raise DiscordError(413, 40005, "Request entity too large")
        if "attachments" in body or files:
            fields["attachments"] = self._attachments(body.get("attachments"), files)
        for key in ("tts", "message_reference", "sticker_ids", "poll", "nonce"):
            if key in body:
                fields[key] = body[key]
        errors.raise_if_any()
        return fields

    def _attachments(
        self, declared: list[dict[str, Any]] | None, files: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        by_field = {f["field"]: f for f in files}
        result: list[dict[str, Any]] = []
        consumed: set[str] = set()
        for item in declared or []:
            field_name = f"files[{item.get('id')}]"
            upload = by_field.get(field_name)
            if upload is not None:
                consumed.add(field_name)
                result.append(self._attachment(upload, item.get("filename"), item))
            elif "url" in item:  # an existing attachment kept by an edit
                result.append(item)
        for upload in files:
            if upload["field"] not in consumed:
                result.append(self._attachment(upload, None, {}))
        return result

    def _attachment(
        self, upload: dict[str, Any], filename: str | None, declared: dict[str, Any]
    ) -> dict[str, Any]:
        attachment_id = self._next_id()
        name = filename or upload["filename"] or "file"
        url = f"{self.base_url}/attachments/{attachment_id}/{name}"
        data = {
            "id": str(attachment_id),
            "filename": name,
            "size": upload["size"],
            "url": url,
            "proxy_url": url,
            "content_type": upload.get("content_type"),
        }
        self.uploads[str(attachment_id)] = upload["content"]  # what the file held
        if declared.get("description"):
            data["description"] = declared["description"]
        return data

    @staticmethod
    def _require_not_empty(message: dict[str, Any]) -> None:
        if not (
            (message.get("content") or "").strip()
            or message.get("embeds")
            or message.get("components")
            or message.get("attachments")
            or message.get("sticker_items")
            or message.get("poll")
        ):
            raise _error(EMPTY_MESSAGE, 400)

    def _store_message(
        self,
        channel: EmuChannel,
        author_id: int,
        fields: dict[str, Any],
        allowed: dict[str, Any] | None,
        *,
        extra: dict[str, Any] | None = None,
        check_empty: bool = True,
    ) -> dict[str, Any]:
        """Create a message from validated fields (Discord's REST wire shape) and store it."""
        message_id = self._next_id()
        content = fields.get("content") or ""
        reference = fields.get("message_reference")
        referenced: dict[str, Any] | None = None
        if reference:
            ref_id = int(reference.get("message_id", 0))
            referenced = self._messages.get(channel.id, {}).get(ref_id)
            if referenced is None and reference.get("fail_if_not_exists", True):
                errors = _FormErrors()
                errors.add(
                    ("message_reference",),
                    "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                    "Unknown message",
                )
                errors.raise_if_any()
        replied_author = int(referenced["author"]["id"]) if referenced else None
        users, roles, everyone = self._mentions(
            channel, author_id, content, allowed, replied_author
        )
        message: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel.id),
            "author": self._user_api(author_id),
            "content": content,
            "timestamp": _iso(),
            "edited_timestamp": None,
            "tts": bool(fields.get("tts", False)),
            "mention_everyone": everyone,
            "mentions": [self._user_api(u) for u in users],
            "mention_roles": [str(r) for r in roles],
            "attachments": fields.get("attachments") or [],
            "embeds": fields.get("embeds") or [],
            "pinned": False,
            "type": 19 if referenced else 0,
            "flags": fields.get("flags") or 0,
            "components": fields.get("components") or [],
        }
        if fields.get("poll"):
            message["poll"] = fields["poll"]
        if fields.get("nonce") is not None:
            message["nonce"] = fields["nonce"]
        if referenced is not None:
            message["message_reference"] = {
                "type": 0,
                "message_id": referenced["id"],
                "channel_id": str(channel.id),
                **({"guild_id": str(channel.guild_id)} if channel.guild_id else {}),
            }
            message["referenced_message"] = {
                k: v for k, v in referenced.items() if k != "referenced_message"
            }
        if extra:
            message.update(extra)
        if check_empty:
            self._require_not_empty(message)
        self._messages.setdefault(channel.id, {})[message_id] = message
        self._message_channel[message_id] = channel.id
        self._allowed_mentions[message_id] = allowed
        channel.last_message_id = message_id
        return message

    def _edit_stored(
        self,
        message: dict[str, Any],
        fields: dict[str, Any],
        *,
        mark_edited: bool = True,
    ) -> dict[str, Any]:
        """Apply validated edit fields to a stored message; returns the new snapshot."""
        message_id = int(message["id"])
        channel = self.channels[int(message["channel_id"])]
        updated = dict(message)
        for key in ("content", "embeds", "components", "attachments"):
            if key in fields:
                updated[key] = fields[key]
        if "flags" in fields:
            old = message.get("flags", 0)
            keep = old & ~(FLAG_SUPPRESS_EMBEDS | FLAG_LOADING)
            updated["flags"] = keep | (
                fields["flags"] & (FLAG_SUPPRESS_EMBEDS | FLAG_IS_COMPONENTS_V2)
            )
        if "allowed_mentions" in fields:
            self._allowed_mentions[message_id] = fields["allowed_mentions"]
        if "content" in fields or "allowed_mentions" in fields:
            users, roles, everyone = self._mentions(
                channel,
                int(message["author"]["id"]),
                updated.get("content") or "",
                self._allowed_mentions.get(message_id),
                None,
            )
            updated["mentions"] = [self._user_api(u) for u in users]
            updated["mention_roles"] = [str(r) for r in roles]
            updated["mention_everyone"] = everyone
        self._require_not_empty(updated)
        if mark_edited:
            updated["edited_timestamp"] = _iso()
        self._messages[channel.id][message_id] = updated
        return updated

    def _remove_message(self, message: dict[str, Any]) -> None:
        message_id = int(message["id"])
        channel_id = self._message_channel.pop(message_id)
        self._messages[channel_id].pop(message_id, None)
        self._allowed_mentions.pop(message_id, None)

    async def _announce(self, message: dict[str, Any], event: str) -> None:
        """MESSAGE_CREATE/UPDATE to the sessions entitled to it (ephemeral ones go nowhere)."""
        if message.get("flags", 0) & FLAG_EPHEMERAL:
            return
        channel = self.channels[int(message["channel_id"])]
        guild_id = channel.guild_id
        author_id = int(message["author"]["id"])
        full = dict(message)
        if guild_id is not None:
            guild = self.guilds[guild_id]
            full["guild_id"] = str(guild_id)
            member = guild.members.get(author_id)
            if member is not None and "webhook_id" not in message:
                full["member"] = self._member_api(guild, member, with_user=False)
            mentions = []
            for user in message["mentions"]:
                mentioned = guild.members.get(int(user["id"]))
                if mentioned is not None:
                    user = {**user, "member": self._member_api(guild, mentioned, with_user=False)}
                mentions.append(user)
            full["mentions"] = mentions
        intent = INTENT_GUILD_MESSAGES if guild_id is not None else INTENT_DIRECT_MESSAGES
        exempt = (
            guild_id is None
            or author_id == BOT_ID
            or any(int(u["id"]) == BOT_ID for u in message["mentions"])
        )
        stripped = full
        if not exempt:
            stripped = {
                **full,
                "content": "",
                "embeds": [],
                "attachments": [],
                "components": [],
            }
            stripped.pop("poll", None)

        def variant(session: GatewaySession) -> dict[str, Any]:
            return full if session.intents & INTENT_MESSAGE_CONTENT else stripped

        await self._broadcast(event, full, guild_id=guild_id, intent=intent, variant=variant)

    # ---- gateway ---------------------------------------------------------------------------

    def _log_frame(
        self,
        direction: str,
        op: int,
        t: str | None,
        s: int | None,
        d: Any,
        session: GatewaySession | None,
        conn: _Connection | None,
    ) -> None:
        self._frames.append(
            GatewayFrame(
                direction,
                op,
                t,
                s,
                d,
                self.clock(),
                session.id if session else None,
                conn.id if conn else 0,
            )
        )

    async def _send_op(self, conn: _Connection, op: int, d: Any) -> None:
        self._log_frame("out", op, None, None, d, conn.session, conn)
        await conn.send(_dumps({"op": op, "d": d, "s": None, "t": None}))

    async def _send_dispatch(self, session: GatewaySession, event: str, data: Any) -> bool:
        session.seq += 1
        seq = session.seq
        text = _dumps({"op": 0, "t": event, "s": seq, "d": data})
        buffer = session.buffer
        if buffer.maxlen is not None and len(buffer) == buffer.maxlen:
            session.dropped_before = buffer[0][0] + 1
        buffer.append((seq, text))
        conn = session.connection
        self._log_frame("out", 0, event, seq, data, session, conn)
        if conn is None:
            return False
        return await conn.send(text)

    @staticmethod
    def _in_shard(session: GatewaySession, guild_id: int | None) -> bool:
        shard_id, count = session.shard
        if count <= 1:
            return True
        return ((guild_id or 0) >> 22) % count == shard_id

    async def _broadcast(
        self,
        event: str,
        data: dict[str, Any],
        *,
        guild_id: int | None = None,
        intent: int = 0,
        variant: Callable[[GatewaySession], dict[str, Any]] | None = None,
    ) -> bool:
        delivered = False
        for session in list(self.sessions.values()):
            if intent and not session.intents & intent:
                continue
            if not self._in_shard(session, guild_id):
                continue
            payload = data if variant is None else variant(session)
            delivered = await self._send_dispatch(session, event, payload) or delivered
        return delivered

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = _Connection(next(self._connection_ids), ws, request.path)
        compress = request.query.get("compress")
        record: dict[str, Any] = {
            "id": conn.id,
            "path": request.path,
            "compress": compress,
            "encoding": request.query.get("encoding"),
            "v": request.query.get("v"),
            "close_code": None,
            "closed_by": None,
        }
        self.connections.append(record)
        if compress == "zlib-stream":
            conn.compressor = zlib.compressobj()
        elif compress == "zstd-stream":
            try:
                import zstandard  # type: ignore[import-not-found]
            except ImportError:
                await conn.close(4000, "emulator: zstd-stream needs the zstandard package")
                return ws
            conn.compressor = zstandard.ZstdCompressor().compressobj()
            conn.flush_mode = zstandard.COMPRESSOBJ_FLUSH_BLOCK
        if request.query.get("encoding", "json") != "json":
            await conn.close(4002, "emulator: only encoding=json is supported")
            return ws
        if request.query.get("v", str(API_VERSION)) not in ("9", "10"):
            await conn.close(4012, "Invalid API version")
            return ws
        self._connections[conn.id] = conn
        try:
            await self._send_op(conn, 10, {"heartbeat_interval": self.heartbeat_interval})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    await conn.close(4002, "Error while decoding payload.")
                    break
                try:
                    payload = json.loads(msg.data)
                    op = payload["op"]
                except (ValueError, KeyError, TypeError):
                    await conn.close(4002, "Error while decoding payload.")
                    break
                await self._gateway_op(conn, op, payload.get("d"))
                if conn.closed:
                    break
        finally:
            conn.closed = True
            code = conn.sent_close_code if conn.server_closed else ws.close_code
            record["close_code"] = None if code is None else int(code)
            record["closed_by"] = "emulator" if conn.server_closed else "client"
            self._connections.pop(conn.id, None)
            session = conn.session
            if session is not None and session.connection is conn:
                session.connection = None
                # Closing with 1000/1001 ends the session (the bot goes offline).  Note that
                # discord.py's Client.close() usually closes with 4000: its pending receive
                # sees the close first and closes with its own default code.
                if not conn.server_closed and ws.close_code in (1000, 1001):
                    self.sessions.pop(session.id, None)
        return ws

    async def _gateway_op(self, conn: _Connection, op: int, d: Any) -> None:
        self._log_frame("in", op, None, None, d, conn.session, conn)
        if op == 1:
            await self._send_op(conn, 11, None)
        elif op == 2:
            await self._identify(conn, d or {})
        elif op == 6:
            await self._resume(conn, d or {})
        elif conn.session is None:
            await conn.close(4003, "Not authenticated.")
        elif op == 3:
            self.presences.append(d)
        elif op == 8:
            await self._request_members(conn.session, d or {})
        elif op == 4:
            pass  # voice state updates are accepted and ignored
        else:
            await conn.close(4001, "Unknown opcode.")

    def _token_ok(self, token: Any) -> bool:
        if not isinstance(token, str) or not token:
            return False
        token = token.removeprefix("Bot ")
        return self.valid_tokens is None or token in self.valid_tokens

    async def _identify(self, conn: _Connection, d: dict[str, Any]) -> None:
        if conn.session is not None:
            await conn.close(4005, "Already authenticated.")
            return
        if not self._token_ok(d.get("token")):
            await conn.close(4004, "Authentication failed.")
            return
        intents = d.get("intents")
        if not isinstance(intents, int) or intents < 0:
            await conn.close(4013, "Invalid intent(s).")
            return
        if intents & INTENT_PRIVILEGED & ~self.privileged_intents:
            await conn.close(4014, "Disallowed intent(s).")
            return
        shard = d.get("shard") or [0, 1]
        if len(shard) != 2 or not 0 <= shard[0] < shard[1]:
            await conn.close(4010, "Invalid shard.")
            return
        self.identifies.append(d)
        session = GatewaySession(
            secrets.token_hex(16),
            d["token"],
            intents,
            (int(shard[0]), int(shard[1])),
            d,
            buffer=deque(maxlen=self.replay_buffer),
        )
        self.sessions[session.id] = session
        session.connection = conn
        conn.session = session
        guilds = [g for g in self.guilds.values() if self._in_shard(session, g.id)]
        ready = {
            "v": API_VERSION,
            "user": self._bot_user(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "shard": list(session.shard),
            "application": {"id": str(APPLICATION_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "user_settings": {},
            "presences": [],
            "geo_ordered_rtc_regions": ["emulator"],
        }
        await self._send_dispatch(session, "READY", ready)
        if intents & INTENT_GUILDS:
            for guild in guilds:
                await self._send_dispatch(
                    session, "GUILD_CREATE", self._guild_create(guild, intents)
                )

    async def _resume(self, conn: _Connection, d: dict[str, Any]) -> None:
        session = self.sessions.get(d.get("session_id") or "")
        seq = d.get("seq") or 0
        if (
            session is None
            or session.token != d.get("token")
            or (session.dropped_before and seq + 1 < session.dropped_before)
        ):
            await self._send_op(conn, 9, False)
            return
        old = session.connection
        if old is not None and old is not conn:
            await old.close(4000, "session resumed elsewhere")
        session.connection = conn
        conn.session = session
        for number, text in list(session.buffer):
            if number > seq:
                await conn.send(text)
        await self._send_dispatch(session, "RESUMED", {})

    async def _request_members(self, session: GatewaySession, d: dict[str, Any]) -> None:
        guild_ids = d.get("guild_id")
        for raw_id in guild_ids if isinstance(guild_ids, list) else [guild_ids]:
            guild = self.guilds.get(int(raw_id))
            if guild is None:
                continue
            members = list(guild.members.values())
            not_found: list[str] = []
            if d.get("user_ids"):
                wanted = [int(u) for u in d["user_ids"]]
                members = [m for m in members if m.user_id in wanted]
                found = {m.user_id for m in members}
                not_found = [str(u) for u in wanted if u not in found]
            else:
                query = (d.get("query") or "").lower()
                if query:
                    members = [m for m in members if self._member_name(m).startswith(query)]
                limit = d.get("limit") or 0
                if limit:
                    members = members[:limit]
            payload: dict[str, Any] = {
                "guild_id": str(guild.id),
                "members": [self._member_api(guild, m) for m in members],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": not_found,
            }
            if d.get("nonce") is not None:
                payload["nonce"] = d["nonce"]
            await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", payload)

    def _member_name(self, member: EmuMember) -> str:
        if member.nick:
            return member.nick.lower()
        return (
            BOT_USERNAME
            if member.user_id == BOT_ID
            else self.users[member.user_id].username.lower()
        )

    # ---- HTTP plumbing ---------------------------------------------------------------------

    async def _handle_rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        method = request.method
        call = Call(method, path, "", {}, dict(request.query), None, self.clock())
        headers: dict[str, str] = {}
        try:
            if request.match_info["version"] not in ("9", "10"):
                raise DiscordError(400, 50041, "Invalid API version provided")
            matched = _match_route(method, path)
            call.json, call.files = await _read_body(request)
            if matched is None:
                raise DiscordError(404, 0, "404: Not Found")
            route, call.params = matched
            call.route = route.key
            auth = request.headers.get("Authorization", "")
            if auth.startswith("Bot "):
                call.token = auth[4:]
            if route.bot_auth and not self._token_ok(auth):
                raise DiscordError(401, 0, "401: Unauthorized")
            headers = self._apply_limits(call, route)
            handler: Callable[[Call], Awaitable[Any]] = getattr(self, route.handler)
            call.result = await handler(call)
            status = 204 if call.result is None else 200
            call.status = status
        except DiscordError as exc:
            call.status, call.error = exc.status, exc.body()
            if exc.status in (401, 403, 429):
                self.invalid_requests += 1
            self._calls.append(call)
            return self._json(exc.status, call.error, {**headers, **exc.headers})
        except Exception as exc:
            logger.exception("DiscordEmulator failed on %s %s", method, path)
            call.status = 500
            call.error = {"message": f"emulator failure: {exc!r}", "code": 0}
            self._calls.append(call)
            return self._json(500, call.error, headers)
        self._calls.append(call)
        if status == 204:
            return web.Response(status=204, headers={"Via": "1.1 google", **headers})
        return self._json(200, call.result, headers)

    @staticmethod
    def _json(status: int, body: Any, headers: dict[str, str]) -> web.Response:
        # Exactly "application/json": discord.py compares the header verbatim.
        return web.Response(
            status=status,
            body=_dumps(body).encode(),
            headers={"Content-Type": "application/json", "Via": "1.1 google", **headers},
        )

    # ---- rate limits -----------------------------------------------------------------------

    def _apply_limits(self, call: Call, route: _Route) -> dict[str, str]:
        """Raise 429 for requests inside a penalty, injected faults or over a limit; returns
        the X-RateLimit headers of a successful request."""
        now = call.time
        token = call.token or ""
        params = call.params
        major = "+".join(
            params[key]
            for key in ("channel_id", "guild_id", "webhook_id", "webhook_token")
            if key in params
        )
        bucket_name = f"{route.key}:{major}"
        bucket_hash = _bucket_hash(route.key)
        scopes = [("route", bucket_name)]
        if route.bot_auth:
            scopes.append(("global", token))
        for scope in scopes:
            throttle = self._penalties.get(scope)
            if throttle is None:
                continue
            if now + _EARLY_RETRY_TOLERANCE < throttle.until:
                self.early_retries.append(EarlyRetry(route.key, now, throttle))
                raise self._throttle(
                    call, route, scope, "early_retry", throttle.until - now, bucket_hash, False
                )
            del self._penalties[scope]
        for fault in list(self._faults):
            if fault.route is not None and not _call_matches(call, fault.route):
                continue
            fault.seen += 1
            hit = False
            if fault.remaining is not None:
                fault.remaining -= 1
                hit = True
                if fault.remaining <= 0:
                    self._faults.remove(fault)
            elif fault.every and fault.seen % fault.every == 0:
                hit = True
            if hit:
                scope = ("global", token) if fault.is_global else ("route", bucket_name)
                reason = "fail_next" if fault.remaining is not None else "fail_every"
                raise self._throttle(call, route, scope, reason, fault.retry_after, bucket_hash)
        if route.bot_auth and self._global_limit is not None:
            window = self._global_windows.setdefault(token, _Bucket())
            if now >= window.reset_at:
                window.reset_at, window.count = now + 1.0, 0
            if window.count >= self._global_limit:
                raise self._throttle(
                    call,
                    route,
                    ("global", token),
                    "global_limit",
                    window.reset_at - now,
                    bucket_hash,
                )
            window.count += 1
        if not route.bucketed:
            return {}
        bucket = self._buckets.get(bucket_name)
        if bucket is None:
            bucket = self._buckets[bucket_name] = _Bucket()
        if now >= bucket.reset_at:
            bucket.reset_at, bucket.count = now + 1.0, 0
        limit = self._route_limit or UNLIMITED_BUCKET
        if self._route_limit is not None and bucket.count >= limit:
            raise self._throttle(
                call,
                route,
                ("route", bucket_name),
                "route_limit",
                bucket.reset_at - now,
                bucket_hash,
                limit=limit,
            )
        bucket.count += 1
        reset_after = max(bucket.reset_at - now, 0.001)
        return {
            "X-RateLimit-Bucket": bucket_hash,
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(limit - bucket.count, 0)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        }

    def _throttle(
        self,
        call: Call,
        route: _Route,
        scope: tuple[str, str],
        reason: str,
        retry_after: float,
        bucket_hash: str,
        penalize: bool = True,
        *,
        limit: int = 1,
    ) -> DiscordError:
        retry_after = max(round(retry_after, 3), 0.001)
        is_global = scope[0] == "global"
        throttle = Throttle(route.key, scope[0], reason, call.time, retry_after, bucket_hash)
        self.throttles.append(throttle)
        if penalize:
            self._penalties[scope] = throttle
        headers = {"Retry-After": str(math.ceil(retry_after))}
        if is_global:
            headers.update({"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"})
        else:
            headers.update(
                {
                    "X-RateLimit-Bucket": bucket_hash,
                    "X-RateLimit-Limit": str(limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                    "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                    "X-RateLimit-Scope": "user",
                }
            )
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
        }
        return DiscordError(429, 0, body["message"], headers=headers, body=body)

    # ---- REST: users, application, gateway -------------------------------------------------

    async def _get_gateway(self, call: Call) -> dict[str, Any]:
        return {"url": self.gateway_url}

    async def _get_gateway_bot(self, call: Call) -> dict[str, Any]:
        return {
            "url": self.gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 1000 - len(self.identifies),
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }

    async def _get_me(self, call: Call) -> dict[str, Any]:
        return self._bot_user()

    async def _get_user(self, call: Call) -> dict[str, Any]:
        user_id = self._path_id(call, "user_id", 10013, "User")
        if user_id != BOT_ID and user_id not in self.users:
            raise _not_found(10013, "User")
        return self._user_api(user_id)

    async def _get_application(self, call: Call) -> dict[str, Any]:
        return self._application_api()

    async def _create_dm(self, call: Call) -> dict[str, Any]:
        body = call.json if isinstance(call.json, dict) else {}
        try:
            user_id = _snowflake_int(body.get("recipient_id"))
        except ValueError:
            user_id = 0
        if not user_id:
            errors = _FormErrors()
            errors.required(("recipient_id",))
            errors.raise_if_any()
        if user_id not in self.users:
            raise _not_found(10013, "User")
        return self._channel_api(self.ensure_dm_channel(user_id))

    # ---- REST: commands --------------------------------------------------------------------

    def _command_scope(self, call: Call) -> int | None:
        if call.params.get("application_id") != str(APPLICATION_ID):
            raise DiscordError(
                403, 20012, "You are not authorized to perform this action on this application"
            )
        if "guild_id" not in call.params:
            return None
        guild_id = self._path_id(call, "guild_id", 10004, "Guild")
        if guild_id not in self.guilds:
            raise _not_found(10004, "Guild")
        return guild_id

    def _normalize_command(
        self, body: dict[str, Any], scope: int | None, existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        kind = body.get("type", 1)
        command: dict[str, Any] = {
            "id": existing["id"] if existing else str(self._next_id()),
            "application_id": str(APPLICATION_ID),
            "version": str(self._next_id()),
            "type": kind,
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description", ""),
            "description_localizations": body.get("description_localizations"),
            "default_member_permissions": body.get("default_member_permissions"),
            "nsfw": bool(body.get("nsfw", False)),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
        }
        if body.get("options"):
            command["options"] = body["options"]
        if scope is None:
            command["dm_permission"] = body.get("dm_permission", True)
        else:
            command["guild_id"] = str(scope)
        return command

    def _check_command(self, body: Any, errors: _FormErrors, path: tuple[str | int, ...]) -> bool:
        if not isinstance(body, dict):
            errors.add(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
            return False
        kind = body.get("type", 1)
        name = body.get("name")
        if kind not in (1, 2, 3, 4):
            errors.add((*path, "type"), "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3, 4).")
        if (
            not isinstance(name, str)
            or not _COMMAND_NAME_RE.fullmatch(name)
            or (kind == 1 and name != name.lower())
        ):
            errors.add(
                (*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
            )
            return False
        description = body.get("description", "")
        if kind == 1:
            if not isinstance(description, str) or not description:
                errors.required((*path, "description"))
            elif len(description) > MAX_COMMAND_DESCRIPTION:
                errors.too_long((*path, "description"), MAX_COMMAND_DESCRIPTION)
            _check_command_options(body.get("options"), (*path, "options"), errors)
        elif description:
            errors.add(
                (*path, "description"),
                "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
                "Context menu commands cannot have description",
            )
        if _command_size(body) > MAX_COMMAND_SIZE:
            errors.add(
                path,
                "APPLICATION_COMMAND_TOO_LARGE",
                f"Command exceeds maximum size ({MAX_COMMAND_SIZE})",
            )
        return True

    async def _get_commands(self, call: Call) -> list[dict[str, Any]]:
        return self.commands(self._command_scope(call))

    async def _put_commands(self, call: Call) -> list[dict[str, Any]]:
        scope = self._command_scope(call)
        body = call.json
        errors = _FormErrors()
        if not isinstance(body, list):
            errors.add((), "BASE_TYPE_ARRAY", "Must be an array.")
            errors.raise_if_any()
        names: set[tuple[int, str]] = set()
        counts = {1: 0, 2: 0, 3: 0, 4: 0}
        for index, item in enumerate(body):
            if not self._check_command(item, errors, (index,)):
                continue
            key = (item.get("type", 1), item["name"])
            if key in names:
                errors.add(
                    (index, "name"),
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    f"Application command names must be unique: {item['name']}",
                )
            names.add(key)
            counts[key[0]] = counts.get(key[0], 0) + 1
        if counts[1] > MAX_CHAT_INPUT_COMMANDS:
            errors.too_long((), MAX_CHAT_INPUT_COMMANDS)
        if counts[2] > MAX_CONTEXT_MENU_COMMANDS or counts[3] > MAX_CONTEXT_MENU_COMMANDS:
            errors.add(
                (),
                "APPLICATION_COMMANDS_TOO_MANY_CONTEXT_MENU",
                f"Maximum {MAX_CONTEXT_MENU_COMMANDS} user and message commands each",
            )
        errors.raise_if_any()
        old = self._commands.get(scope, {})
        new: dict[tuple[int, str], dict[str, Any]] = {}
        for item in body:
            key = (item.get("type", 1), item["name"])
            new[key] = self._normalize_command(item, scope, old.get(key))
        self._commands[scope] = new
        return list(new.values())

    async def _post_command(self, call: Call) -> dict[str, Any]:
        scope = self._command_scope(call)
        errors = _FormErrors()
        self._check_command(call.json, errors, ())
        errors.raise_if_any()
        body = call.json
        store = self._commands.setdefault(scope, {})
        key = (body.get("type", 1), body["name"])
        store[key] = self._normalize_command(body, scope, store.get(key))
        return store[key]

    def _find_command(self, call: Call) -> tuple[int | None, tuple[int, str]]:
        scope = self._command_scope(call)
        command_id = call.params["command_id"]
        for key, command in self._commands.get(scope, {}).items():
            if command["id"] == command_id:
                return scope, key
        raise _not_found(10063, "application command")

    async def _get_command(self, call: Call) -> dict[str, Any]:
        scope, key = self._find_command(call)
        return self._commands[scope][key]

    async def _delete_command(self, call: Call) -> None:
        scope, key = self._find_command(call)
        del self._commands[scope][key]

    # ---- REST: channels and messages -------------------------------------------------------

    @staticmethod
    def _path_id(call: Call, key: str, code: int, what: str) -> int:
        try:
            return _snowflake_int(call.params[key])
        except ValueError:
            raise _not_found(code, what) from None

    def _channel_for(self, call: Call) -> EmuChannel:
        channel = self.channels.get(self._path_id(call, "channel_id", 10003, "Channel"))
        if channel is None:
            raise _not_found(10003, "Channel")
        return channel

    def _check_bot_access(self, channel: EmuChannel, needed: int = 0) -> None:
        if channel.guild_id is None:
            return
        perms = self.permissions_for(channel.guild_id, BOT_ID, channel.id)
        if not perms & PERM_VIEW_CHANNEL:
            raise DiscordError(403, 50001, "Missing Access")
        if needed and (perms & needed) != needed:
            raise DiscordError(403, 50013, "Missing Permissions")

    def _message_for(self, call: Call, channel: EmuChannel) -> dict[str, Any]:
        message_id = self._path_id(call, "message_id", 10008, "Message")
        message = self._messages.get(channel.id, {}).get(message_id)
        if message is None or message.get("flags", 0) & FLAG_EPHEMERAL:
            raise _not_found(10008, "Message")
        return message

    async def _get_channel(self, call: Call) -> dict[str, Any]:
        channel = self._channel_for(call)
        self._check_bot_access(channel)
        return self._channel_api(channel)

    async def _typing(self, call: Call) -> None:
        channel = self._channel_for(call)
        self._check_bot_access(channel, PERM_SEND_MESSAGES)

    async def _get_messages(self, call: Call) -> list[dict[str, Any]]:
        channel = self._channel_for(call)
        self._check_bot_access(channel, PERM_READ_MESSAGE_HISTORY)
        limit = min(max(int(call.query.get("limit", 50)), 1), 100)
        history = [
            m
            for m in self._messages.get(channel.id, {}).values()
            if not m["flags"] & FLAG_EPHEMERAL
        ]
        if "after" in call.query:
            after = int(call.query["after"])
            return list(reversed([m for m in history if int(m["id"]) > after][:limit]))
        if "before" in call.query:
            before = int(call.query["before"])
            history = [m for m in history if int(m["id"]) < before]
        return list(reversed(history[-limit:]))

    async def _post_message(self, call: Call) -> dict[str, Any]:
        channel = self._channel_for(call)
        if channel.type == 1:
            assert channel.recipient_id is not None
            if not self.users[channel.recipient_id].dms_open:
                raise _error(CANNOT_MESSAGE_USER, 403)
        elif channel.type == 4:
            raise DiscordError(400, 50008, "Cannot send messages in a non-text channel")
        else:
            self._check_bot_access(channel, PERM_SEND_MESSAGES)
        body = call.json if isinstance(call.json, dict) else {}
        fields = self._validate_fields(
            body, call.files, _FormErrors(), allowed_flags=_SENDABLE_FLAGS
        )
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            previous = self._nonces.get((channel.id, str(nonce)))
            if previous is not None and previous in self._message_channel:
                return self._current_message(previous)
        message = self._store_message(channel, BOT_ID, fields, fields.get("allowed_mentions"))
        if nonce is not None and body.get("enforce_nonce"):
            self._nonces[(channel.id, str(nonce))] = int(message["id"])
        await self._announce(message, "MESSAGE_CREATE")
        return message

    async def _get_message(self, call: Call) -> dict[str, Any]:
        channel = self._channel_for(call)
        self._check_bot_access(channel, PERM_READ_MESSAGE_HISTORY)
        return self._message_for(call, channel)

    async def _patch_message(self, call: Call) -> dict[str, Any]:
        channel = self._channel_for(call)
        self._check_bot_access(channel)
        message = self._message_for(call, channel)
        body = call.json if isinstance(call.json, dict) else {}
        if int(message["author"]["id"]) != BOT_ID:
            if set(body) - {"flags"}:
                raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        fields = self._validate_fields(
            body, call.files, _FormErrors(), allowed_flags=_SENDABLE_FLAGS
        )
        updated = self._edit_stored(message, fields)
        await self._announce(updated, "MESSAGE_UPDATE")
        return updated

    async def _delete_message(self, call: Call) -> None:
        channel = self._channel_for(call)
        message = self._message_for(call, channel)
        if int(message["author"]["id"]) != BOT_ID:
            if channel.type == 1:
                raise DiscordError(403, 50003, "Cannot execute action on a DM channel")
            self._check_bot_access(channel, PERM_MANAGE_MESSAGES)
        self._remove_message(message)
        await self._announce_delete(message)

    async def _announce_delete(self, message: dict[str, Any]) -> None:
        if message.get("flags", 0) & FLAG_EPHEMERAL:
            return
        channel = self.channels[int(message["channel_id"])]
        data = {"id": message["id"], "channel_id": message["channel_id"]}
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        intent = INTENT_GUILD_MESSAGES if channel.guild_id is not None else INTENT_DIRECT_MESSAGES
        await self._broadcast("MESSAGE_DELETE", data, guild_id=channel.guild_id, intent=intent)

    # ---- REST: guilds ----------------------------------------------------------------------

    def _guild_for(self, call: Call) -> EmuGuild:
        guild = self.guilds.get(self._path_id(call, "guild_id", 10004, "Guild"))
        if guild is None:
            raise _not_found(10004, "Guild")
        return guild

    async def _get_guild(self, call: Call) -> dict[str, Any]:
        guild = self._guild_for(call)
        data = self._guild_base(guild)
        if call.query.get("with_counts") in ("true", "1", "True"):
            data["approximate_member_count"] = len(guild.members)
            data["approximate_presence_count"] = 0
        return data

    # ---- guild scheduled events (external ones: a place, a start and an end) ---------------

    async def _get_scheduled_events(self, call: Call) -> list[dict[str, Any]]:
        guild = self._guild_for(call)
        return list(self.scheduled.get(guild.id, {}).values())

    def _check_scheduled(self, body: dict[str, Any], *, creating: bool) -> None:
        errors = _FormErrors()
        name = body.get("name")
        if creating and not name:
            errors.required(["name"])
        if name is not None and not 1 <= len(name) <= 100:
            errors.too_long(["name"], 100)
        if len(body.get("description") or "") > 1000:
            errors.too_long(["description"], 1000)
        location = (body.get("entity_metadata") or {}).get("location")
        if creating and body.get("entity_type") == 3:
            if not location:
                errors.required(["entity_metadata", "location"])
            if not body.get("scheduled_end_time"):
                errors.required(["scheduled_end_time"])
        if location is not None and len(location) > 100:
            errors.too_long(["entity_metadata", "location"], 100)
        if creating and not body.get("scheduled_start_time"):
            errors.required(["scheduled_start_time"])
        errors.raise_if_any()

    async def _post_scheduled_event(self, call: Call) -> dict[str, Any]:
        guild = self._guild_for(call)
        body = call.json or {}
        self._check_scheduled(body, creating=True)
        event_id = str(self._next_id())
        event = {
            "id": event_id,
            "guild_id": str(guild.id),
            "channel_id": None,
            "creator_id": str(BOT_ID),
            "name": body["name"],
            "description": body.get("description"),
            "scheduled_start_time": body["scheduled_start_time"],
            "scheduled_end_time": body.get("scheduled_end_time"),
            "privacy_level": body.get("privacy_level", 2),
            "status": 1,
            "entity_type": body.get("entity_type", 3),
            "entity_id": None,
            "entity_metadata": body.get("entity_metadata"),
            "user_count": 0,
        }
        self.scheduled.setdefault(guild.id, {})[event_id] = event
        return event

    def _scheduled_for(self, call: Call) -> dict[str, Any]:
        guild = self._guild_for(call)
        found = self.scheduled.get(guild.id, {}).get(call.params["event_id"])
        if found is None:
            raise _not_found(10070, "Guild Scheduled Event")
        return found

    async def _get_scheduled_event(self, call: Call) -> dict[str, Any]:
        return self._scheduled_for(call)

    async def _patch_scheduled_event(self, call: Call) -> dict[str, Any]:
        event = self._scheduled_for(call)
        body = call.json or {}
        self._check_scheduled(body, creating=False)
        for key in (
            "name",
            "description",
            "scheduled_start_time",
            "scheduled_end_time",
            "entity_metadata",
            "status",
        ):
            if key in body:
                event[key] = body[key]
        return event

    async def _delete_scheduled_event(self, call: Call) -> None:
        event = self._scheduled_for(call)
        del self.scheduled[int(event["guild_id"])][event["id"]]

    async def _get_guild_channels(self, call: Call) -> list[dict[str, Any]]:
        guild = self._guild_for(call)
        return [self._channel_api(channel) for channel in guild.channels.values()]

    async def _get_guild_roles(self, call: Call) -> list[dict[str, Any]]:
        return [role.to_api() for role in self._guild_for(call).roles.values()]

    async def _get_member(self, call: Call) -> dict[str, Any]:
        guild = self._guild_for(call)
        member = guild.members.get(self._path_id(call, "user_id", 10007, "Member"))
        if member is None:
            raise _not_found(10007, "Member")
        return self._member_api(guild, member)

    # ---- REST: interactions ----------------------------------------------------------------

    def _record_response(
        self,
        interaction: EmuInteraction,
        kind: str,
        response_type: int | None,
        data: dict[str, Any],
        message_id: int | None,
        now: float,
    ) -> None:
        response = EmuResponse(interaction, kind, response_type, data, now, message_id)
        interaction.responses.append(response)
        self._responses.append(response)

    def _interaction_extra(self, interaction: EmuInteraction) -> dict[str, Any]:
        """Fields that mark a message as the bot's answer to an interaction."""
        user = self._user_api(interaction.user_id)
        owners = interaction.payload.get("authorizing_integration_owners", {})
        metadata: dict[str, Any] = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": user,
            "authorizing_integration_owners": owners,
        }
        extra: dict[str, Any] = {
            "webhook_id": str(APPLICATION_ID),
            "application_id": str(APPLICATION_ID),
            "interaction_metadata": metadata,
        }
        if interaction.type == INTERACTION_APPLICATION_COMMAND:
            metadata["name"] = interaction.name
            metadata["command_type"] = 1
            extra["type"] = 20
            extra["interaction"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "name": interaction.name,
                "user": user,
            }
        elif interaction.message_id is not None:
            metadata["interacted_message_id"] = str(interaction.message_id)
            extra["type"] = 19 if interaction.type == INTERACTION_MESSAGE_COMPONENT else 0
        return extra

    async def _interaction_callback(self, call: Call) -> dict[str, Any] | None:
        now = call.time
        try:
            interaction_id = _snowflake_int(call.params["interaction_id"])
        except ValueError:
            raise _error(UNKNOWN_INTERACTION, 404) from None
        interaction = self.interactions.get(interaction_id)
        if interaction is None or interaction.token != call.params["interaction_token"]:
            raise _error(UNKNOWN_INTERACTION, 404)
        if interaction.response_type is not None:
            raise _error(ALREADY_ACKNOWLEDGED, 400)
        if now - interaction.created > self.interaction_ttl:
            raise _error(UNKNOWN_INTERACTION, 404)
        body = call.json if isinstance(call.json, dict) else {}
        callback_type = body.get("type")
        data = body.get("data") or {}
        kind = interaction.type
        allowed_types = {
            INTERACTION_PING: {CALLBACK_PONG},
            INTERACTION_APPLICATION_COMMAND: {
                CALLBACK_CHANNEL_MESSAGE,
                CALLBACK_DEFERRED_CHANNEL_MESSAGE,
                CALLBACK_MODAL,
            },
            INTERACTION_MESSAGE_COMPONENT: {
                CALLBACK_CHANNEL_MESSAGE,
                CALLBACK_DEFERRED_CHANNEL_MESSAGE,
                CALLBACK_DEFERRED_UPDATE_MESSAGE,
                CALLBACK_UPDATE_MESSAGE,
                CALLBACK_MODAL,
            },
            INTERACTION_AUTOCOMPLETE: {CALLBACK_AUTOCOMPLETE_RESULT},
            INTERACTION_MODAL_SUBMIT: {
                CALLBACK_CHANNEL_MESSAGE,
                CALLBACK_DEFERRED_CHANNEL_MESSAGE,
                CALLBACK_DEFERRED_UPDATE_MESSAGE,
                CALLBACK_UPDATE_MESSAGE,
            },
        }[kind]
        if callback_type in (CALLBACK_DEFERRED_UPDATE_MESSAGE, CALLBACK_UPDATE_MESSAGE) and (
            interaction.message_id is None
        ):
            allowed_types = allowed_types - {
                CALLBACK_DEFERRED_UPDATE_MESSAGE,
                CALLBACK_UPDATE_MESSAGE,
            }
        if callback_type not in allowed_types:
            errors = _FormErrors()
            errors.add(
                ("type",),
                "INTERACTION_CALLBACK_TYPE_INVALID",
                f"Callback type {callback_type!r} is not valid for interaction type {kind}",
            )
            errors.raise_if_any()
        errors = _FormErrors(("data",))
        channel = self.channels[interaction.channel_id]
        message: dict[str, Any] | None = None
        message_id: int | None = None
        ephemeral = False
        loading = False
        if callback_type == CALLBACK_CHANNEL_MESSAGE:
            fields = self._validate_fields(
                data, call.files, errors, allowed_flags=_SENDABLE_FLAGS | FLAG_EPHEMERAL
            )
            message = self._store_message(
                channel,
                BOT_ID,
                fields,
                fields.get("allowed_mentions"),
                extra=self._interaction_extra(interaction),
            )
            message_id = int(message["id"])
            ephemeral = bool(message["flags"] & FLAG_EPHEMERAL)
            interaction.original_message_id = message_id
            await self._announce(message, "MESSAGE_CREATE")
        elif callback_type == CALLBACK_DEFERRED_CHANNEL_MESSAGE:
            flags = data.get("flags") or 0
            if flags & ~FLAG_EPHEMERAL:
                errors.add(("flags",), "MESSAGE_FLAGS_INVALID", "Only EPHEMERAL may be set")
                errors.raise_if_any()
            placeholder = self._store_message(
                channel,
                BOT_ID,
                {"content": "", "flags": FLAG_LOADING | flags},
                None,
                extra=self._interaction_extra(interaction),
                check_empty=False,
            )
            message_id = int(placeholder["id"])
            ephemeral = bool(flags & FLAG_EPHEMERAL)
            loading = True
            interaction.original_message_id = message_id
            interaction.loading = True
            await self._announce(placeholder, "MESSAGE_CREATE")
        elif callback_type == CALLBACK_DEFERRED_UPDATE_MESSAGE:
            interaction.original_message_id = interaction.message_id
        elif callback_type == CALLBACK_UPDATE_MESSAGE:
            assert interaction.message_id is not None
            target = self._current_message(interaction.message_id)
            fields = self._validate_fields(data, call.files, errors, allowed_flags=_SENDABLE_FLAGS)
            message = self._edit_stored(target, fields)
            message_id = int(message["id"])
            ephemeral = bool(message["flags"] & FLAG_EPHEMERAL)
            interaction.original_message_id = message_id
            await self._announce(message, "MESSAGE_UPDATE")
        elif callback_type == CALLBACK_AUTOCOMPLETE_RESULT:
            choices = data.get("choices")
            if not isinstance(choices, list):
                errors.required(("choices",))
            else:
                if len(choices) > MAX_CHOICES:
                    errors.too_long(("choices",), MAX_CHOICES)
                for index, choice in enumerate(choices):
                    if not 1 <= _text_len(choice.get("name")) <= 100:
                        errors.add(
                            ("choices", index, "name"),
                            "BASE_TYPE_BAD_LENGTH",
                            "Must be between 1 and 100 in length.",
                        )
                    if isinstance(choice.get("value"), str) and len(choice["value"]) > 100:
                        errors.too_long(("choices", index, "value"), 100)
            errors.raise_if_any()
        elif callback_type == CALLBACK_MODAL:
            modal = _check_modal(data, errors)
            errors.raise_if_any()
            self._modals.append(
                _Modal(
                    interaction.user_id,
                    modal["custom_id"],
                    modal["title"],
                    list(modal["components"]),
                    interaction,
                )
            )
        interaction.response_type = callback_type
        interaction.responded_at = now
        self._record_response(interaction, "callback", callback_type, data, message_id, now)
        if call.query.get("with_response") not in ("true", "1", "True"):
            return None
        result: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "activity_instance_id": None,
                "response_message_id": _str_or_none(message_id),
                "response_message_loading": loading,
                "response_message_ephemeral": ephemeral,
            },
            "resource": {"type": callback_type},
        }
        if message is not None:
            result["resource"]["message"] = message
        return result

    def _webhook_interaction(self, call: Call) -> EmuInteraction:
        interaction = self._by_token.get(call.params["webhook_token"])
        if interaction is None or call.params["webhook_id"] != str(APPLICATION_ID):
            raise _not_found(10015, "Webhook")
        if call.time - interaction.created > self.token_ttl:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        if interaction.response_type is None:
            raise _not_found(10015, "Webhook")
        return interaction

    def _webhook_message(self, call: Call, interaction: EmuInteraction) -> dict[str, Any]:
        raw = call.params["message_id"]
        if raw == "@original":
            message_id = interaction.original_message_id
        else:
            try:
                message_id = _snowflake_int(raw)
            except ValueError:
                raise _not_found(10008, "Message") from None
            if message_id != interaction.original_message_id and (
                message_id not in interaction.followup_ids
            ):
                message_id = None
        if message_id is None or message_id not in self._message_channel:
            raise _not_found(10008, "Message")
        return self._current_message(message_id)

    async def _webhook_execute(self, call: Call) -> dict[str, Any] | None:
        interaction = self._webhook_interaction(call)
        body = call.json if isinstance(call.json, dict) else {}
        fields = self._validate_fields(
            body, call.files, _FormErrors(), allowed_flags=_SENDABLE_FLAGS | FLAG_EPHEMERAL
        )
        if interaction.loading and interaction.original_message_id in self._message_channel:
            # Discord's backwards-compatible quirk: the first followup after a deferred
            # channel message edits the loading message, keeping its ephemeral state.
            original = self._current_message(interaction.original_message_id)
            fields.pop("flags", None)
            message = self._edit_stored(original, fields, mark_edited=False)
            message = self._clear_loading(message)
            interaction.loading = False
            self._record_response(
                interaction, "followup", None, body, int(message["id"]), call.time
            )
            await self._announce(message, "MESSAGE_UPDATE")
            return message
        channel = self.channels[interaction.channel_id]
        message = self._store_message(
            channel,
            BOT_ID,
            fields,
            fields.get("allowed_mentions"),
            extra=self._interaction_extra(interaction),
        )
        interaction.followup_ids.append(int(message["id"]))
        self._record_response(interaction, "followup", None, body, int(message["id"]), call.time)
        await self._announce(message, "MESSAGE_CREATE")
        return message

    def _clear_loading(self, message: dict[str, Any]) -> dict[str, Any]:
        if not message.get("flags", 0) & FLAG_LOADING:
            return message
        cleared = {**message, "flags": message["flags"] & ~FLAG_LOADING}
        self._messages[int(message["channel_id"])][int(message["id"])] = cleared
        return cleared

    async def _webhook_get(self, call: Call) -> dict[str, Any]:
        interaction = self._webhook_interaction(call)
        return self._webhook_message(call, interaction)

    async def _webhook_edit(self, call: Call) -> dict[str, Any]:
        interaction = self._webhook_interaction(call)
        message = self._webhook_message(call, interaction)
        body = call.json if isinstance(call.json, dict) else {}
        fields = self._validate_fields(
            body, call.files, _FormErrors(), allowed_flags=_SENDABLE_FLAGS
        )
        was_loading = bool(message.get("flags", 0) & FLAG_LOADING)
        updated = self._edit_stored(message, fields, mark_edited=not was_loading)
        if was_loading:
            updated = self._clear_loading(updated)
            interaction.loading = False
        self._record_response(interaction, "edit", None, body, int(updated["id"]), call.time)
        await self._announce(updated, "MESSAGE_UPDATE")
        return updated

    async def _webhook_delete(self, call: Call) -> None:
        interaction = self._webhook_interaction(call)
        message = self._webhook_message(call, interaction)
        self._remove_message(message)
        if int(message["id"]) == interaction.original_message_id:
            interaction.loading = False
        self._record_response(interaction, "delete", None, {}, int(message["id"]), call.time)
        await self._announce_delete(message)


# --------------------------------------------------------------------------------------------
# Module helpers used by the emulator


def _str_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)


def _infer_option_type(value: Any) -> int:
    if isinstance(value, bool):
        return _BOOLEAN
    if isinstance(value, int):
        return _INTEGER
    if isinstance(value, float):
        return _NUMBER
    if isinstance(value, EmuUser):
        return _USER
    if isinstance(value, EmuChannel):
        return _CHANNEL
    if isinstance(value, EmuRole):
        return _ROLE
    return _STRING


def _call_matches(call: Call, route: str) -> bool:
    if "{" in route:
        return call.route == route
    return f"{call.method} {call.path}" == route or call.route == route

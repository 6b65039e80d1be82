"""The action codec: what a button does, as a short string every platform can carry.

Telegram allows 1-64 bytes of callback_data and Discord 100 characters of custom_id, so an
action is a two-letter verb and up to three numbers: `su:42` is "sign up for activity 42".
The payload comes back from the client, which can forge anything: decode() rejects whatever
is malformed, and every action is authorised again by the service that carries it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MAX_BYTES = 64
_MAX_ID = 2**53


class Act(StrEnum):
    SIGN_UP = "su"
    CANCEL_SIGNUP = "cx"
    WHO = "wh"
    EVENT = "ev"
    GROUP = "gr"
    JOIN = "jn"
    LEAVE = "lv"
    GROUP_POSTS = "gp"
    GROUP_EVENTS = "ge"
    EVENTS_PAGE = "el"  # group (0: every group), page: the next page of /events
    LIKE = "lk"
    REPLIES = "rp"
    DELETE_POST = "dp"
    PIN = "pn"
    APPROVE = "ap"
    REJECT = "rj"
    RELEASE = "rl"
    NEARBY = "nb"
    DISMISS = "dm"
    HELLO = "hi"
    ACCEPT_HELLO = "ha"
    DECLINE_HELLO = "hd"
    BLOCK = "bk"
    UNBLOCK = "ub"
    REPORT = "ab"
    MAYBE = "mb"
    GUEST_MORE = "pl"  # +1
    GUEST_FEWER = "mi"  # -1
    REMIND_MAYBE = "rm"
    NO_REMINDERS = "ro"  # a maybe's reminders off again
    ACCEPT_OFFER = "oa"
    PASS_OFFER = "op"
    REPORT_POST = "fp"  # flag a post for its group's admins and the operators
    DISMISS_REPORT = "fd"
    DELETE_REPORTED = "fx"
    BAN_REPORTED = "fb"
    CALENDAR = "ic"  # the activity as a calendar file
    CHECK_IN = "ck"  # activity, person: present <-> not there
    SERIES_JOIN = "sj"  # sign up for every occurrence of the activity's series
    REQUESTS = "rq"  # a group's waiting join requests (/requests)


ARITY = {
    Act.GROUP_POSTS: 2,
    Act.EVENTS_PAGE: 2,
    Act.APPROVE: 2,
    Act.REJECT: 2,
    Act.NEARBY: 2,
    Act.DISMISS: 2,
    Act.CHECK_IN: 2,
}


class BadAction(ValueError):
    """A payload that no button of ours ever produced."""


@dataclass(frozen=True, slots=True)
class Action:
    act: Act
    args: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.args) != ARITY.get(self.act, 1):
            raise BadAction(f"{self.act} takes {ARITY.get(self.act, 1)} numbers")
        if any(not 0 <= a < _MAX_ID for a in self.args):
            raise BadAction("argument out of range")

    @property
    def id(self) -> int:
        return self.args[0]


def encode(action: Action) -> str:
    payload = ":".join([action.act.value, *map(str, action.args)])
    assert len(payload.encode()) <= MAX_BYTES, payload  # true by construction: 2 + 2*17 bytes
    return payload


def decode(payload: str) -> Action:
    if not payload or len(payload.encode()) > MAX_BYTES:
        raise BadAction("empty or too long")
    verb, *numbers = payload.split(":")
    if not all(n.isascii() and n.isdigit() for n in numbers):
        raise BadAction("not a number")
    try:
        kind = Act(verb)
    except ValueError:
        raise BadAction(f"unknown verb {verb!r}") from None
    return Action(kind, tuple(int(n) for n in numbers))


def act(kind: Act, *args: int) -> Action:
    return Action(kind, tuple(args))

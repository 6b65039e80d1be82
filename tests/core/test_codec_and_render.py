"""Buttons carry short payloads that clients can forge; terminal text can carry escapes.

The codec must round-trip every action and reject anything else; a forged click changes
nothing; user text never reaches a terminal with its control sequences intact.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from core.actions import ARITY, MAX_BYTES, Act, Action, BadAction, act, decode, encode
from core.cards import Card, Span, Style, bold, link, plain
from core.chat.registry import ACTIONS, Context, Services, handle_text
from core.clock import FrozenClock
from core.db import Database
from core.i18n import Translator
from core.models import Event, Group, Job, Like, Membership, Post, Registration
from core.render.text import render_card, safe
from core.services import events, groups, people, posts
from core.services.events import EventDraft
from core.views import reminder_card
from tests.support import Chat

BIGGEST = 2**53 - 1


def _arity(kind: Act) -> int:
    return ARITY.get(kind, 1)


@pytest.mark.parametrize("kind", list(Act))
def test_every_action_round_trips(kind: Act) -> None:
    for args in ((0,) * _arity(kind), (7, 3, 1)[: _arity(kind)], (BIGGEST,) * _arity(kind)):
        action = act(kind, *args)
        assert decode(encode(action)) == action


@pytest.mark.parametrize("kind", list(Act))
def test_biggest_payload_fits_a_telegram_button(kind: Act) -> None:
    payload = encode(act(kind, *(BIGGEST,) * _arity(kind)))
    assert len(payload.encode()) <= 64 == MAX_BYTES


@pytest.mark.parametrize("kind", list(Act))
def test_every_action_has_a_handler(kind: Act) -> None:
    assert kind in ACTIONS


def test_verbs_are_distinct_two_letter_codes() -> None:
    verbs = [kind.value for kind in Act]
    assert len(set(verbs)) == len(verbs)
    assert all(len(v) == 2 and v.isascii() and ":" not in v for v in verbs)


FORGED = [
    "",
    "garbage",
    "su",
    "su:",
    "su::1",
    "su:1:2",
    "gp:1",
    "ap:1:2:3",
    "zz:1",
    "SU:1",
    " su:1",
    "su:1 ",
    "su:-1",
    "su:+1",
    "su:1.0",
    "su:0x10",
    "su:1e3",
    "su:٣",
    "su:１",
    "su:²",
    f"su:{2**53}",
    "su:" + "9" * 61,
    "su:1" + " " * 61,
    "su:1\n",
    "su:1\x00",
]


@pytest.mark.parametrize("payload", FORGED, ids=repr)
def test_forged_payload_is_rejected(payload: str) -> None:
    with pytest.raises(BadAction):
        decode(payload)


def test_actions_cannot_be_built_with_bad_arguments() -> None:
    with pytest.raises(BadAction):
        Action(Act.SIGN_UP, (1, 2))
    with pytest.raises(BadAction):
        Action(Act.APPROVE, (1,))
    with pytest.raises(BadAction):
        act(Act.SIGN_UP, -1)
    with pytest.raises(BadAction):
        act(Act.SIGN_UP, 2**53)


async def _counts(db: Database) -> dict[str, int]:
    async with db.uow(readonly=True) as uow:
        return {
            model.__name__: (await uow.session.exec(select(func.count()).select_from(model))).one()
            for model in (Group, Membership, Post, Like, Registration, Job)  # jobs: notices
        }


async def _registrations(db: Database) -> list[tuple[int, str, int]]:
    async with db.uow(readonly=True) as uow:
        rows = await uow.session.exec(select(Registration).order_by(Registration.id))  # type: ignore[arg-type]
        return [(r.person_id, r.status, r.seq) for r in rows.all()]


@pytest.mark.parametrize(
    "payload", ["su:1:1", "su:-1", "su:٣", "cx:", "xx:1", "lk:" + "1" * 70, "", "ap:1"], ids=repr
)
async def test_forged_click_is_refused_and_changes_nothing(
    chat: Chat, db: Database, clock: FrozenClock, payload: str
) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead | free | 1")
    await chat.say("maya", "/post hiking Dry trail today")
    await chat.say("bob", "/join hiking")
    await chat.click("bob", "su:1")
    before = (await _counts(db), await _registrations(db))

    reply = await chat.click("bob", payload)

    assert reply.toast == "That button no longer works."
    assert reply.alert
    assert reply.cards == []
    assert (await _counts(db), await _registrations(db)) == before


# ---- terminal rendering --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "\x1b[2JEvil",
        "\x1b[31mred\x1b[0m",
        "\x1b[?25lhidden cursor",
        "bell\x07",
        "\x9b2Jc1 csi",
        "back\x08\x08space",
        "carriage\rreturn",
        "\x1b]0;new title\x07",
    ],
    ids=repr,
)
def test_safe_strips_terminal_control(text: str) -> None:
    cleaned = safe(text)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in cleaned)


def test_safe_keeps_ordinary_text() -> None:
    text = "Sunrise hike 🌄 — 徒步 <b>&_*[x](y)\ttabbed"
    assert safe(text) == text
    assert safe("\x1b[2JEvil") == "Evil"
    assert safe("\x1b[31mred\x1b[0m") == "red"


def test_card_renders_user_text_without_escape_sequences() -> None:
    card = Card().add(bold("\x1b[2JEvil"), plain(" by \x1b[31mMallory"))
    card.add(link("map\x1b[5m", "https://example.org/\x1b[2J"))
    card.add(Span(Style.ITALIC, "\x1b]0;pwned\x07note"))
    for ansi in (False, True):
        text = render_card(card, ansi=ansi)
        assert "Evil" in text and "Mallory" in text
        assert "\x1b[2J" not in text and "\x1b[31m" not in text and "\x1b[5m" not in text
        assert "\x07" not in text and "\x1b]" not in text
    assert "\x1b" not in render_card(card, ansi=False)
    assert "\x1b[1mEvil\x1b[0m" in render_card(card, ansi=True)  # our own bold stays


async def test_group_named_with_escape_codes_renders_clean(
    services: Services, db: Database, clock: FrozenClock
) -> None:
    async with db.uow() as uow:
        maya = await people.resolve_actor(
            uow, clock, platform="test", external_id="maya", display_name="\x1b[31mMaya"
        )
    async with db.uow() as uow:
        group = await groups.create_group(uow, clock, maya.person_id, name="\x1b[2JEvil")
    async with db.uow() as uow:
        await events.create_event(
            uow,
            clock,
            maya.person_id,
            str(group.id),
            EventDraft("\x1b[5mBlink", clock.now() + timedelta(days=2), "\x1b[8mHidden place"),
        )
    async with db.uow() as uow:
        await posts.create_post(uow, clock, maya.person_id, str(group.id), "\x1b[2Jhello")

    ctx = Context(services, maya, Translator("en"))
    for command in ("/groups", f"/group {group.id}", "/events", "/event 1", f"/posts {group.id}"):
        reply = await handle_text(ctx, command)
        for card in reply.cards:
            for ansi in (False, True):
                text = render_card(card, ansi=ansi)
                assert "\x1b[2J" not in text and "\x1b[5m" not in text, command
                assert "\x1b[8m" not in text and "\x1b[31m" not in text, command
        assert "Evil" in reply.text, command


def test_a_maybes_reminder_offers_no_sign_up_once_sign_up_closed() -> None:
    """A maybe's 1h reminder (after the deadline, as it usually is) offered ✅ Sign up; the tap
    was refused and, as refused taps redraw their card, the reminder became the card."""
    starts = datetime(2026, 12, 6, 7, 30, tzinfo=UTC)
    event = Event(
        id=1,
        group_id=1,
        creator_id=1,
        title="Ridge",
        starts_at=starts,
        timezone="UTC",
        place="Trailhead",
        signup_deadline=starts - timedelta(days=1),
    )
    t = Translator("en")
    late = reminder_card(event, timedelta(hours=1), None, t, maybe=True)
    assert [b.label for row in late.buttons for b in row] == ["🔕 Stop reminders"]
    event.signup_deadline = starts - timedelta(minutes=30)
    early = reminder_card(event, timedelta(hours=1), None, t, maybe=True)
    assert [b.label for row in early.buttons for b in row] == ["✅ Sign up", "🔕 Stop reminders"]

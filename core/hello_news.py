"""Telling people of a "say hi" between companions: the person greeted is asked, with Accept,
Decline and Block buttons; on acceptance the sender gets the receiver's handles.

Saying hi, and accepting one, schedule a "hello" job (core.work; key "hello:asked" or
"hello:accepted") in the same transaction (`core.services.discovery.say_hi`, `answer_hi`), so
neither can be lost between the commit and the send, as they could while the notices lived in
the committing process's memory. The notice worker (core.notices) tells them.

Nobody is asked about a hi already answered, nor told of one after either of the two blocked
the other meanwhile. The handles are read when the acceptance is told: the ones that reach the
receiver then.
"""

from __future__ import annotations

from datetime import datetime

from core.actions import Act, act
from core.cards import Button, Card, Notice, bold, note
from core.i18n import Translator
from core.models import Hello, HelloStatus, Job, Person
from core.services.discovery import HI_ACCEPTED, HI_ASKED, blocked_with, handles
from core.uow import UnitOfWork

#: What each piece of news needs the hi to be, when it is told.
_STATUS = {HI_ASKED: HelloStatus.PENDING, HI_ACCEPTED: HelloStatus.ACCEPTED}


def invitation_card(hello_id: int, sender_id: int, name: str, t: Translator) -> Card:
    """A hi as the person greeted sees it: nothing is shared unless they accept."""
    return (
        Card()
        .add(bold(t("{name} would like to say hi.", name=name)))
        .add(t("If you accept, you both see each other's handle; if not, nothing is shared."))
        .row(
            Button(t("✅ Accept"), act(Act.ACCEPT_HELLO, hello_id)),
            Button(t("✖ Decline"), act(Act.DECLINE_HELLO, hello_id)),
            Button(t("🚫 Block"), act(Act.BLOCK, sender_id)),
        )
    )


def handles_text(t: Translator, name: str, found: list[tuple[str, str]]) -> str:
    """Where someone can be reached: their handle on each platform."""
    shown = ", ".join(f"{handle} ({platform})" for platform, handle in found) or "—"
    return t("You can reach {name} at {handles}.", name=name, handles=shown)


def acceptance_card(name: str, found: list[tuple[str, str]], t: Translator) -> Card:
    return note(t("{name} accepted your hi.", name=name) + " " + handles_text(t, name, found))


async def told_of_hello(uow: UnitOfWork, job: Job, now: datetime) -> Notice | None:
    """The notice for a "hello" job (key "hello:news"), if it is still news."""
    hello_part, news = job.key.split(":")
    hello = await uow.session.get(Hello, int(hello_part))
    if hello is None or news not in _STATUS or hello.status != _STATUS[news]:
        return None
    sender, receiver = hello.from_person, hello.to_person
    if sender in await blocked_with(uow, receiver):
        return None
    if news == HI_ASKED:
        hello_id = hello.id
        name = (await uow.session.get(Person, sender)).display_name  # type: ignore[union-attr]
        return Notice(receiver, lambda t: invitation_card(hello_id, sender, name, t))  # type: ignore[arg-type]
    name = (await uow.session.get(Person, receiver)).display_name  # type: ignore[union-attr]
    found = await handles(uow, receiver)
    return Notice(sender, lambda t: acceptance_card(name, found, t))

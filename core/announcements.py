"""Announcing a new activity or post in its group's home chats.

Creating an activity or a post schedules an "announce" job for each home chat of its group in
the same transaction (`core.services.chats.announce`; keyed "event:7:3": the subject and the
home chat's row), so the announcement cannot be lost between the commit and the post, as it
could while it lived in the committing process's memory. The notice worker (core.notices)
posts it; the posted card is a live copy, redrawn on every change (core.livecards).

It is posted only while it still makes sense: not to a chat that is no longer a home of the
group, not for a post deleted or an activity cancelled or started meanwhile. The card shows
what stands when it is posted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from core.cards import Card
from core.i18n import Translator
from core.models import Event, EventStatus, GroupChat, Job
from core.services import events, posts
from core.uow import UnitOfWork
from core.views import event_card, post_card


@dataclass(frozen=True)
class HomePost:
    """A card for one home chat, in the chat's language."""

    home: GroupChat
    card: Callable[[Translator], Card]


async def told_in_home(uow: UnitOfWork, job: Job, now: datetime) -> HomePost | None:
    """The post for an "announce" job, if it still makes sense."""
    subject, number, home_id = job.key.split(":")
    home = await uow.session.get(GroupChat, int(home_id))
    if home is None:
        return None
    if subject == "event":
        event = await uow.session.get(Event, int(number))
        if event is None or event.status != EventStatus.SCHEDULED or event.starts_at <= now:
            return None
        view = await events.shared_view(uow, int(number))
        return HomePost(home, lambda t: event_card(view, t, personal=False))
    shared, _ = await posts.views_for_readers(uow, int(number), [])
    if shared is None:  # deleted
        return None
    return HomePost(home, lambda t: post_card(shared, t, live=True))

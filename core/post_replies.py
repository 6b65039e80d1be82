"""Telling a post's author that someone replied to it ("bob replied to your post #3: …").

A reply schedules a "replied" job (core.work; key: the reply) in the reply's transaction
(`core.services.posts.reply`), unless the author replied to their own post, so the duty to tell
cannot be lost between the commit and the send, as it could while the notice lived in the
committing process's memory. The notice worker (core.notices) tells them, once per reply.

Nobody is told of a reply deleted meanwhile, nor of a reply to a post deleted meanwhile (nor of
their own reply, should SQLite give a deleted reply's number to one of theirs), nor an author
since banned from the group.
"""

from __future__ import annotations

from datetime import datetime

from core import permissions
from core.actions import Act, act
from core.cards import Button, Card, Notice, note, plain, snippet
from core.i18n import Translator
from core.models import Comment, Job, Person, Post
from core.services.groups import membership_of
from core.uow import UnitOfWork

SNIPPET = 200  # characters of the reply shown in the notice


def reply_card(post_id: int, name: str, body: str, t: Translator) -> Card:
    """The reply as its post's author hears of it, with a way to read them all."""
    text = t("{name} replied to your post #{id}:", name=name, id=post_id)
    return (
        note(text)
        .add(plain(snippet(body, SNIPPET)))
        .row(Button(t("💬 Replies"), act(Act.REPLIES, post_id)))
    )


async def told_of_reply(uow: UnitOfWork, job: Job, now: datetime) -> Notice | None:
    """The notice for a "replied" job (key: the reply), if the reply and its post still
    stand."""
    comment = await uow.session.get(Comment, int(job.key))
    if comment is None:  # deleted
        return None
    post = await uow.session.get(Post, comment.post_id)
    if post is None or post.deleted:
        return None
    if post.author_id == comment.author_id:  # the reply's number, freed, taken by their own
        return None
    if permissions.is_banned(await membership_of(uow, post.group_id, post.author_id)):
        return None  # banned since: nothing of the group reaches them, and its Replies is shut
    replier = await uow.session.get(Person, comment.author_id)
    post_id, name, body = comment.post_id, replier.display_name if replier else "?", comment.body
    return Notice(post.author_id, lambda t: reply_card(post_id, name, body, t))

"""Telling a post's author that a group admin removed it ("An admin of Hiking removed your
post #3: …").

An admin's delete (from the post's card or from a report) schedules a "post-removed" job
(core.work; key: the post) in the delete's transaction (`core.services.posts.remove_post`);
the author deleting their own post schedules none. The notice worker (core.notices) tells them
once, with what the post said, so that a removal is never a silent disappearance. Nobody is
told of a post that is no longer deleted.
"""

from __future__ import annotations

from datetime import datetime

from core.cards import Card, Notice, italic, note, snippet
from core.i18n import Translator
from core.models import Group, Job, Post
from core.uow import UnitOfWork

SNIPPET = 200  # characters of the post shown in the notice


def removed_card(post_id: int, group: str, body: str, t: Translator) -> Card:
    text = t("An admin of {group} removed your post #{id}:", group=group, id=post_id)
    return note(text).add(italic(snippet(body, SNIPPET)))


async def told_of_removal(uow: UnitOfWork, job: Job, now: datetime) -> Notice | None:
    """The notice for a "post-removed" job (key: the post), if the post is still removed."""
    post = await uow.session.get(Post, int(job.key))
    if post is None or not post.deleted:
        return None
    group = await uow.session.get(Group, post.group_id)
    post_id, name, body = post.id, group.name if group else "?", post.body
    return Notice(post.author_id, lambda t: removed_card(post_id, name, body, t))  # type: ignore[arg-type]

"""Posts in a group (guides, experiences, discussion), with replies, likes and pins."""

from __future__ import annotations

from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlmodel import func, select

from core import permissions, work
from core.clock import Clock
from core.errors import forbidden, not_found
from core.i18n import N_
from core.models import Comment, Group, Like, Person, Post, Visibility
from core.services import chats
from core.services.groups import find_group, membership_of, memberships_of
from core.uow import UnitOfWork
from core.validation import clean_text, is_id

PAGE_SIZE = 5
POST_MAX = 4000
REPLY_MAX = 2000

REPLIED = "replied"  # the job kind of telling a post's author of a reply (key: the reply)
POST_REMOVED = "post-removed"  # of telling an author an admin removed their post (key: post)


@dataclass(frozen=True)
class PostView:
    """A post with its counts; as its viewer sees it (`seen_by`) or as a shared chat shows it:
    nobody's like, nobody's rights (the defaults)."""

    post: Post
    group: Group
    author_name: str
    likes: int
    replies: int
    liked_by_viewer: bool = False
    viewer_can_moderate: bool = False
    viewer_is_admin: bool = False
    viewer_is_author: bool = False
    for_viewer: bool = False

    def seen_by(self, viewer_id: int, membership, liked: bool) -> PostView:
        """The post as this viewer sees it: their like, their rights."""
        author = self.post.author_id
        return replace(
            self,
            liked_by_viewer=liked,
            viewer_can_moderate=permissions.can_moderate_post(author, membership, viewer_id),
            viewer_is_admin=permissions.is_admin(membership),
            viewer_is_author=author == viewer_id,
            for_viewer=True,
        )

    def public(self) -> PostView:
        """The post as everyone in a shared chat sees it."""
        return replace(
            self,
            liked_by_viewer=False,
            viewer_can_moderate=False,
            viewer_is_admin=False,
            viewer_is_author=False,
            for_viewer=False,
        )


@dataclass(frozen=True)
class PostPage:
    group: Group
    posts: list[PostView]
    page: int
    pages: int


@dataclass(frozen=True)
class ReplyView:
    author_name: str
    comment: Comment


Chat = tuple[str, str]  # (platform, chat id) of a shared chat


async def require_shown_in(uow: UnitOfWork, group: Group, chat: Chat | None) -> None:
    """A private group's posts and replies are for its members: an answer that shows them to a
    whole shared chat (`chat`; None: a private chat) may only go to one of the group's homes,
    the chats its admins chose to show them to; else anyone in that chat would read them."""
    if chat is None or group.visibility != Visibility.PRIVATE:
        return
    homes = await chats.home_chats(uow, group.id)  # type: ignore[arg-type]
    if chat not in {(home.platform, home.chat_id) for home in homes}:
        raise forbidden(
            "private_group_elsewhere",
            N_(
                "{group} is a private group: send me this in a private chat, "
                "or in the group's own chat."
            ),
            group=group.name,
        )


async def live_post(uow: UnitOfWork, post_id: int, *, lock: bool = False) -> Post:
    """The post, not found once deleted, whoever asks (the caller checks who may see it).
    `lock`: to delete it. On PostgreSQL the row is locked, so of two admins deleting at once the
    second waits, then finds it deleted (and its author is told once); SQLite's writers take
    turns."""
    post = (
        await uow.session.get(Post, post_id, with_for_update=lock or None, populate_existing=lock)
        if is_id(post_id)
        else None
    )
    if post is None or post.deleted:
        raise not_found("post", id=post_id)
    return post


async def load_post(
    uow: UnitOfWork,
    post_id: int,
    viewer_id: int,
    *,
    lock: bool = False,
    shown_in: Chat | None = None,
):
    """The post, its group and the viewer's membership; not found once deleted (`lock`: see
    live_post). `shown_in`: the shared chat the answer will show it to (require_shown_in)."""
    post = await live_post(uow, post_id, lock=lock)
    group = await uow.session.get(Group, post.group_id)
    membership = await membership_of(uow, post.group_id, viewer_id)
    permissions.require_content_access(group, membership)  # type: ignore[arg-type]
    await require_shown_in(uow, group, shown_in)  # type: ignore[arg-type]
    return post, group, membership


async def create_post(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    ref: str | Group,
    body: str,
    *,
    author_name: str | None = None,
    answered_in: tuple[str, str] | None = None,
) -> PostView:
    """Members post; in private groups nobody else even sees the group's posts. The post is
    announced in the group's home chats (core.announcements), but `answered_in`, the shared chat
    whose answer already shows it (for a private group, only one of its homes: require_shown_in).
    Returns the
    new post as its author sees it, known without reading it back: no likes, no replies yet.
    `author_name`: the author's name as the caller knows it (the chat's actor, which may be
    up to the actor cache's `ttl` old after a rename through another process), else read.
    `ref`: the group's name, or the group as this unit of work found it."""
    group = ref if isinstance(ref, Group) else await find_group(uow, ref)
    membership = await membership_of(uow, group.id, actor_id)  # type: ignore[arg-type]
    permissions.require_member(group, membership)
    await require_shown_in(uow, group, answered_in)  # type: ignore[arg-type]
    text = clean_text(body, field="post", min_len=1, max_len=POST_MAX)
    post = Post(group_id=group.id, author_id=actor_id, body=text, created_at=clock.now())  # type: ignore[arg-type]
    uow.session.add(post)
    if author_name is None:
        named = select(Person.display_name).where(Person.id == actor_id)
        author_name = (await uow.session.exec(named)).one()
    await uow.session.flush()
    await chats.announce(uow, "post", post.id, group.id, answered_in)  # type: ignore[arg-type]
    await uow.commit()
    view = PostView(post=post, group=group, author_name=author_name, likes=0, replies=0)
    return view.seen_by(actor_id, membership, liked=False)


async def engagement(uow: UnitOfWork, ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """(likes, replies) per post id, two grouped counts for any number of posts."""
    likes = dict(
        (
            await uow.session.exec(
                select(Like.post_id, func.count())
                .where(Like.post_id.in_(ids))  # type: ignore[attr-defined]
                .group_by(Like.post_id)
            )
        ).all()
    )
    replies = dict(
        (
            await uow.session.exec(
                select(Comment.post_id, func.count())
                .where(Comment.post_id.in_(ids))  # type: ignore[attr-defined]
                .group_by(Comment.post_id)
            )
        ).all()
    )
    return likes, replies


async def _views(
    uow: UnitOfWork, posts: list[Post], group: Group, viewer_id: int, membership
) -> list[PostView]:
    ids = [p.id for p in posts]
    if not ids:
        return []
    mine = set(
        (
            await uow.session.exec(
                select(Like.post_id).where(Like.post_id.in_(ids), Like.person_id == viewer_id)  # type: ignore[attr-defined]
            )
        ).all()
    )
    return [
        view.seen_by(viewer_id, membership, view.post.id in mine)
        for view in await _shared_views(uow, posts, group)
    ]


async def _shared_views(uow: UnitOfWork, posts: list[Post], group: Group) -> list[PostView]:
    """The posts with their counts and authors' names, as a shared chat shows them."""
    likes, replies = await engagement(uow, [p.id for p in posts])  # type: ignore[arg-type]
    authors = dict(
        (
            await uow.session.exec(
                select(Person.id, Person.display_name).where(
                    Person.id.in_({p.author_id for p in posts})  # type: ignore[union-attr]
                )
            )
        ).all()
    )
    return [
        PostView(
            post=p,
            group=group,
            author_name=authors.get(p.author_id, "?"),
            likes=likes.get(p.id, 0),
            replies=replies.get(p.id, 0),
        )
        for p in posts
    ]


async def list_posts(
    uow: UnitOfWork, viewer_id: int, ref: str, page: int = 1, *, shown_in: Chat | None = None
) -> PostPage:
    """Pinned posts first, then newest first, PAGE_SIZE a page; a page past the last is the
    last. `shown_in`: the shared chat the page will show in (require_shown_in)."""
    group = await find_group(uow, ref)
    membership = await membership_of(uow, group.id, viewer_id)  # type: ignore[arg-type]
    permissions.require_content_access(group, membership)
    await require_shown_in(uow, group, shown_in)
    visible = sa.and_(Post.group_id == group.id, Post.deleted == sa.false())
    total = (await uow.session.exec(select(func.count()).select_from(Post).where(visible))).one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = await uow.session.exec(
        select(Post)
        .where(visible)
        .order_by(Post.pinned.desc(), Post.created_at.desc(), Post.id.desc())  # type: ignore[attr-defined]
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    views = await _views(uow, list(rows.all()), group, viewer_id, membership)
    return PostPage(group=group, posts=views, page=page, pages=pages)


async def get_post(
    uow: UnitOfWork, viewer_id: int, post_id: int, *, shown_in: Chat | None = None
) -> tuple[PostView, list[ReplyView]]:
    post, group, membership = await load_post(uow, post_id, viewer_id, shown_in=shown_in)
    [view] = await _views(uow, [post], group, viewer_id, membership)
    rows = await uow.session.exec(
        select(Comment, Person.display_name)
        .join(Person, Person.id == Comment.author_id)  # type: ignore[arg-type]
        .where(Comment.post_id == post_id)
        .order_by(Comment.created_at, Comment.id)
        .limit(50)
    )
    return view, [ReplyView(name, comment) for comment, name in rows.all()]


async def reply(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    post_id: int,
    body: str,
    *,
    shown_in: Chat | None = None,
) -> tuple[Comment, Post]:
    """A member's reply; returns it with its post. The post's author is told of it (not of
    their own), by the notice worker (core.post_replies), durably: the duty to tell commits
    with the reply. `shown_in`: the shared chat the answer will show it to (require_shown_in)."""
    post, group, membership = await load_post(uow, post_id, actor_id, shown_in=shown_in)
    permissions.require_member(group, membership)
    text = clean_text(body, field="reply", min_len=1, max_len=REPLY_MAX)
    comment = Comment(post_id=post.id, author_id=actor_id, body=text, created_at=clock.now())  # type: ignore[arg-type]
    uow.session.add(comment)
    uow.post_changed(post_id)
    if post.author_id != actor_id:
        await uow.session.flush()
        await work.schedule(uow, REPLIED, str(comment.id), work.AT_ONCE)
    await uow.commit()
    return comment, post


async def edit_post(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    post_id: int,
    body: str,
    *,
    shown_in: Chat | None = None,
) -> Post:
    """Only the author rewrites a post (admins may delete it, not put words in its mouth); the
    post then shows when it was edited. `shown_in`: as for `reply`."""
    post, group, membership = await load_post(uow, post_id, actor_id, shown_in=shown_in)
    if post.author_id != actor_id:
        raise forbidden("not_post_author", N_("Only the author can edit a post."))
    permissions.require_member(group, membership)
    post.body = clean_text(body, field="post", min_len=1, max_len=POST_MAX)
    post.edited_at = clock.now()
    uow.session.add(post)
    uow.post_changed(post_id)
    await uow.commit()
    return post


async def delete_reply(
    uow: UnitOfWork, actor_id: int, reply_id: int, *, shown_in: Chat | None = None
) -> Post:
    """The reply's author, or an admin of the post's group, removes a reply; returns its post.
    `shown_in`: the shared chat the answer will show the post to (require_shown_in)."""
    comment = await uow.session.get(Comment, reply_id) if is_id(reply_id) else None
    if comment is None:
        raise not_found("reply", id=reply_id)
    post, _group, membership = await load_post(uow, comment.post_id, actor_id, shown_in=shown_in)
    if not permissions.can_moderate_post(comment.author_id, membership, actor_id):
        raise forbidden(
            "not_reply_author", N_("Only the author or a group admin can delete a reply.")
        )
    await uow.session.delete(comment)
    uow.post_changed(post.id)  # type: ignore[arg-type]
    await uow.commit()
    return post


async def toggle_like(uow: UnitOfWork, actor_id: int, post_id: int) -> tuple[bool, int]:
    """Like, or unlike if already liked. Returns (liked now, like count)."""
    _post, group, membership = await load_post(uow, post_id, actor_id)
    permissions.require_member(group, membership)
    # a double-tapped like button: the second tap waits here and sees the first one's like
    await uow.session.exec(
        select(Post.id).where(Post.id == post_id).with_for_update(key_share=True)
    )
    existing = (
        await uow.session.exec(
            select(Like).where(Like.post_id == post_id, Like.person_id == actor_id)
        )
    ).first()
    if existing is None:
        uow.session.add(Like(post_id=post_id, person_id=actor_id))
    else:
        await uow.session.delete(existing)
    await uow.session.flush()
    count = (
        await uow.session.exec(
            select(func.count()).select_from(Like).where(Like.post_id == post_id)
        )
    ).one()
    uow.post_changed(post_id)
    await uow.commit()
    return existing is None, count


async def delete_post(uow: UnitOfWork, actor_id: int, post_id: int) -> Post:
    """The author or a group admin removes a post."""
    post, _group, membership = await load_post(uow, post_id, actor_id, lock=True)
    if not permissions.can_moderate_post(post.author_id, membership, actor_id):
        raise forbidden(
            "not_post_author", N_("Only the author or a group admin can delete a post.")
        )
    await remove_post(uow, post, actor_id)
    await uow.commit()
    return post


async def remove_post(uow: UnitOfWork, post: Post, actor_id: int) -> None:
    """Mark a post (locked: live_post) deleted by someone whose right to was checked: by
    delete_post, or by core.services.reports for a report acted on (a group admin or an
    operator, who need not be in the group). The caller commits."""
    post.deleted = True
    uow.session.add(post)
    uow.post_changed(post.id)  # type: ignore[arg-type]
    if post.author_id != actor_id:  # someone else's doing: the author is told (core.post_removals)
        await work.schedule(uow, POST_REMOVED, str(post.id), work.AT_ONCE)


async def toggle_pin(uow: UnitOfWork, actor_id: int, post_id: int) -> Post:
    post, group, membership = await load_post(uow, post_id, actor_id)
    permissions.require_admin(group, membership)
    post.pinned = not post.pinned
    uow.session.add(post)
    uow.post_changed(post_id)
    await uow.commit()
    return post


async def views_for_readers(
    uow: UnitOfWork, post_id: int, readers: list[int]
) -> tuple[PostView | None, dict[int, PostView]]:
    """The post as a shared chat shows it, and as each reader sees it, for redrawing its posted
    copies (core.livecards). None: the post is gone. A reader who lost access is left out (their
    copy is drawn as the shared one)."""
    post = await uow.session.get(Post, post_id)
    if post is None or post.deleted:
        return None, {}
    group = await uow.session.get(Group, post.group_id)
    [shared] = await _shared_views(uow, [post], group)  # type: ignore[arg-type]
    memberships = await memberships_of(uow, post.group_id, readers)
    likers = set(
        (
            await uow.session.exec(
                select(Like.person_id).where(Like.post_id == post_id, Like.person_id.in_(readers))  # type: ignore[attr-defined]
            )
        ).all()
    )
    views = {
        reader: shared.seen_by(reader, memberships.get(reader), reader in likers)
        for reader in readers
        if permissions.can_see_content(group, memberships.get(reader))  # type: ignore[arg-type]
    }
    return shared, views

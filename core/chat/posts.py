"""Post commands: /post, /posts, /reply, and the like, replies, pin and delete buttons."""

from __future__ import annotations

import re
from dataclasses import replace

from core import livecards
from core.actions import Act, Action
from core.cards import Reply, note
from core.chat.args import number
from core.chat.registry import Context, command, on_action, only_in_private
from core.errors import invalid
from core.i18n import N_, Translator
from core.models import Group
from core.services import groups, posts
from core.views import group_list_card, post_card, post_page_cards, replies_card, usage


async def _for_the_chat(ctx: Context) -> Context:
    """The context to answer a command with: in a shared chat, where everyone reads the
    answer, in the chat's language (livecards.chat_language: a home's bound language, else the
    community's), as its announcements and live cards are, whoever asked; in a private chat,
    the asker's. An error stays the asker's (core.chat.registry renders it in theirs)."""
    if not ctx.in_group_chat or ctx.chat is None:
        return ctx
    return replace(ctx, t=Translator(await livecards.chat_language(ctx.services, ctx.chat)))


@command(
    "post", usage=N_("/post <group> <text>"), help=N_("Write a post in a group"), section="posts"
)
async def post_command(ctx: Context, args: str) -> Reply:
    ctx = await _for_the_chat(ctx)
    async with ctx.uow() as uow:
        group, body = await groups.find_group_at_start(uow, args) if args else (None, "")
        if group is None or not body:
            what = (
                ctx.t("Name the group, then write your post.")
                if group is None
                else ctx.t("Write your post after the group's name.")  # the text is missing
            )
            handle = group.handle if group is not None else "hiking"
            example = f"/post {handle} The ridge trail is dry again, great views!"
            return Reply(cards=[usage(ctx.t, what, example)])
        # announced in the group's home chats (core.announcements); written in one of them,
        # the answer is the announcement there: the post as everyone there sees it
        view = await posts.create_post(
            uow,
            ctx.clock,
            ctx.me,
            group,
            body,
            author_name=ctx.actor.display_name,
            answered_in=ctx.chat,
        )
    if ctx.in_group_chat:
        view = view.public()
    return Reply(cards=[note(ctx.t("Posted.")), post_card(view, ctx.t, live=True)])


async def _page(ctx: Context, ref: str, page: int, *, shared: bool) -> Reply:
    """A page of a group's posts; past the last page, the last, saying so. `shared`: shown to
    everyone in the shared chat (a command there), so live copies as everyone there sees
    them, nobody's own like or rights; else the asker's own (a tap's answer is the tapper's
    alone: their private chat, an ephemeral message)."""
    async with ctx.uow(readonly=True) as uow:
        result = await posts.list_posts(
            uow, ctx.me, ref, page, shown_in=ctx.chat if shared else None
        )
    if shared:
        result = replace(result, posts=[view.public() for view in result.posts])
    cards = post_page_cards(result, ctx.t)
    if page > result.pages:  # '/posts hiking 99', or an Older button from before deletions
        only = ctx.t.ngettext(  # the group's name heads the page below
            "There is only {n} page of posts: here it is.",
            "There are only {n} pages of posts: here is the last.",
            result.pages,
        )
        cards.insert(0, note(only))
    return Reply(cards=cards)


@command(
    "posts",
    usage=N_("/posts <group> [page]"),
    help=N_("Read a group's posts, newest first"),
    section="posts",
)
async def posts_command(ctx: Context, args: str) -> Reply:
    ctx = await _for_the_chat(ctx)
    if not args:
        only_in_private(ctx, "posts")  # the choice lists one's groups, as /mygroups
        async with ctx.uow(readonly=True) as uow:
            mine = await groups.my_groups(uow, ctx.me)
        if not mine:
            return Reply(cards=[note(ctx.t("Join a group first (/groups), then read its posts."))])
        return Reply(
            cards=[group_list_card(ctx.t, ctx.t("Posts of which group?"), mine, Act.GROUP)]
        )
    ref, page = args, 1
    _, _, last = args.strip().rpartition(" ")
    if _PAGE_LIKE.fullmatch(last):
        async with ctx.uow(readonly=True) as uow:
            group, rest = await groups.find_group_at_start(uow, args)
        if rest:  # not a name ending in a number, such as "Book club 2"
            ref, page = f"#{group.id}", _page_number(rest, group)
    return await _page(ctx, ref, page, shared=ctx.in_group_chat)


_PAGE_LIKE = re.compile(r"[-+#]?\d+")  # what is meant as a page number, good or not


def _page_number(text: str, group: Group) -> int:
    """A page number typed after a group's name ('/posts book club 2'): whole, from 1."""
    page = number(text)
    if not page:  # '-1', '0', or 'club 2' after a group called "Book"
        raise invalid(
            "bad_page",
            N_("A page number is a whole number from 1 up, like {example}."),
            example=f"/posts {group.handle} 2",
        )
    return page


@on_action(Act.GROUP_POSTS)
async def posts_page_action(ctx: Context, action: Action) -> Reply:
    group_id, page = action.args
    return await _page(ctx, str(group_id), page, shared=False)


def _post_id(args: str, example: str) -> int:
    found = number(args.split(" ", 1)[0]) if args else None
    if found is None:
        raise invalid(
            "post_id_missing", N_("Which post? Give its number, e.g. {example}"), example=example
        )
    return found


@command(
    "reply", usage=N_("/reply <post number> <text>"), help=N_("Reply to a post"), section="posts"
)
async def reply_command(ctx: Context, args: str) -> Reply:
    ctx = await _for_the_chat(ctx)
    post_id = _post_id(args, "/reply 12 Thanks, see you there!")
    _, _, body = args.strip().partition(" ")  # the number has no spaces; the text may have "|"
    async with ctx.uow() as uow:
        await posts.reply(uow, ctx.clock, ctx.me, post_id, body, shown_in=ctx.chat)
    # the post's author hears of it (core.post_replies)
    return await _replies(ctx, post_id, shared=ctx.in_group_chat)


@command(
    "editpost",
    usage=N_("/editpost <post number> <new text>"),
    help=N_("Rewrite your own post"),
    section="posts",
)
async def editpost_command(ctx: Context, args: str) -> Reply:
    ctx = await _for_the_chat(ctx)
    post_id = _post_id(args, "/editpost 12 The ridge trail is muddy again.")
    _, _, body = args.strip().partition(" ")
    if not body.strip():
        return Reply(
            cards=[
                usage(
                    ctx.t,
                    ctx.t("Give the post's number, then its new text."),
                    "/editpost 12 The ridge trail is muddy again.",
                )
            ]
        )
    async with ctx.uow() as uow:
        await posts.edit_post(uow, ctx.clock, ctx.me, post_id, body, shown_in=ctx.chat)
    async with ctx.uow(readonly=True) as uow:
        view, _ = await posts.get_post(uow, ctx.me, post_id)
    if ctx.in_group_chat:  # as everyone there sees it: not the author's Delete
        view = view.public()
    return Reply(cards=[note(ctx.t("Post edited.")), post_card(view, ctx.t, full=True)])


@command(
    "deletereply",
    usage=N_("/deletereply <reply number>"),
    help=N_("Delete your reply (admins: any reply in their group)"),
    section="posts",
)
async def deletereply_command(ctx: Context, args: str) -> Reply:
    ctx = await _for_the_chat(ctx)
    reply_id = number(args) if args else None
    if reply_id is None:
        return Reply(
            cards=[
                usage(
                    ctx.t,
                    ctx.t("Which reply? Its [number] is shown before it in /replies."),
                    "/deletereply 7",
                )
            ]
        )
    async with ctx.uow() as uow:
        post = await posts.delete_reply(uow, ctx.me, reply_id, shown_in=ctx.chat)
    answer = await _replies(ctx, post.id, shared=ctx.in_group_chat)  # type: ignore[arg-type]
    text = ctx.t("Reply deleted.")
    return Reply(cards=[note(text), *answer.cards], toast=text)


async def _replies(ctx: Context, post_id: int, *, shared: bool) -> Reply:
    """A post with its replies; `shared` as for `_page`."""
    async with ctx.uow(readonly=True) as uow:
        view, replies = await posts.get_post(
            uow, ctx.me, post_id, shown_in=ctx.chat if shared else None
        )
    if shared:
        view = view.public()
    return Reply(cards=[replies_card(view, replies, ctx.t)])


@command(
    "replies",
    usage=N_("/replies <post number>"),
    help=N_("Read a post and its replies"),
    section="posts",
)
async def replies_command(ctx: Context, args: str) -> Reply:
    ctx = await _for_the_chat(ctx)
    return await _replies(ctx, _post_id(args, "/replies 12"), shared=ctx.in_group_chat)


@on_action(Act.REPLIES)
async def replies_action(ctx: Context, action: Action) -> Reply:
    return await _replies(ctx, action.id, shared=False)


async def _refreshed(ctx: Context, post_id: int, toast: str) -> Reply:
    """The clicked post card as it is now: in a group chat as everyone there sees it (not the
    clicker's like or rights); a live copy, so every other copy of the post follows."""
    async with ctx.uow(readonly=True) as uow:
        view, _ = await posts.get_post(uow, ctx.me, post_id)
    if ctx.in_group_chat:
        view = view.public()
    return Reply(cards=[post_card(view, ctx.t, live=True)], toast=toast, edit=True)


@on_action(Act.LIKE)
async def like_action(ctx: Context, action: Action) -> Reply:
    async with ctx.uow() as uow:
        liked, _ = await posts.toggle_like(uow, ctx.me, action.id)
    return await _refreshed(ctx, action.id, ctx.t("Liked.") if liked else ctx.t("Like removed."))


@on_action(Act.PIN)
async def pin_action(ctx: Context, action: Action) -> Reply:
    async with ctx.uow() as uow:
        post = await posts.toggle_pin(uow, ctx.me, action.id)
    return await _refreshed(ctx, action.id, ctx.t("Pinned.") if post.pinned else ctx.t("Unpinned."))


@on_action(Act.DELETE_POST)
async def delete_action(ctx: Context, action: Action) -> Reply:
    async with ctx.uow() as uow:
        await posts.delete_post(uow, ctx.me, action.id)
    text = ctx.t("Post deleted.")
    # the tapped card turns into the note, for everyone in a shared chat: in its language
    shown = (await _for_the_chat(ctx)).t("Post deleted.")
    return Reply(cards=[note(shown)], toast=text, edit=True)

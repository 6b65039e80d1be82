"""Group commands: /groups, /group, /newgroup, /join, /leave, /mygroups and admin tools."""

from __future__ import annotations

from core.actions import Act, Action, act
from core.cards import Button, Card, Reply, bold, italic, note, plain
from core.chat.args import fields
from core.chat.registry import (
    REDRAWN_WHEN_REFUSED,
    Context,
    command,
    on_action,
    only_in_private,
)
from core.errors import invalid
from core.i18n import N_, Translator
from core.models import Group, MembershipStatus, Person, Role
from core.services import events, groups
from core.views import group_card, group_list_card, usage

GROUPS_SHOWN = 20  # one message's worth of buttons
# the words /newgroup's last field may be, and whether each makes the group private
VISIBILITIES = {"private": True, "私密": True, "public": False, "公开": False}


@command("groups", usage=N_("/groups [search]"), help=N_("Find interest groups"), section="groups")
async def groups_command(ctx: Context, args: str) -> Reply:
    async with ctx.uow(readonly=True) as uow:  # one more than shown: are some left out?
        found = await groups.search_groups(uow, ctx.me, args, limit=GROUPS_SHOWN + 1)
    if not found:
        text = (
            ctx.t("No groups match “{query}”. Start one with /newgroup <name>.", query=args)
            if args
            else ctx.t("No groups yet. Start one with /newgroup <name>.")
        )
        return Reply(cards=[note(text)])
    title = ctx.t("Groups matching “{query}”", query=args) if args else ctx.t("Groups")
    card = group_list_card(ctx.t, title, found[:GROUPS_SHOWN], Act.GROUP)
    if len(found) > GROUPS_SHOWN:  # a search, not pages: what to narrow it down by is typed
        card.add(
            italic(
                ctx.t(
                    "The {count} biggest are shown. Add words to find others, e.g. /groups hiking.",
                    count=GROUPS_SHOWN,
                )
            )
        )
    return Reply(cards=[card])


@command("group", usage=N_("/group <name>"), help=N_("Show a group"), section="groups")
async def group_command(ctx: Context, args: str) -> Reply:
    async with ctx.uow(readonly=True) as uow:
        summary = await groups.group_summary(uow, ctx.me, args)
    return Reply(cards=[group_card(summary, ctx.t)])


@on_action(Act.GROUP)
async def group_action(ctx: Context, action: Action) -> Reply:
    return await group_command(ctx, str(action.id))


@command(
    "newgroup",
    usage=N_("/newgroup <name> [| description] [| tags] [| private]"),
    help=N_("Create a group; you become its owner"),
    section="groups",
)
async def newgroup_command(ctx: Context, args: str) -> Reply:
    parts = fields(args)
    if not parts:
        return Reply(
            cards=[
                usage(
                    ctx.t,
                    ctx.t(
                        "Give the group a name, and optionally a description, tags and “private”."
                    ),
                    "/newgroup Trail Runners | Early runs in the park | running, outdoors",
                )
            ]
        )
    private = VISIBILITIES.get(parts[-1].lower()) if len(parts) > 1 else None
    if private is not None:
        parts = parts[:-1]
    extra = next(filter(None, parts[3:]), "")  # "| privat" made a public group, unsaid
    if extra:
        raise invalid(
            "bad_visibility",
            N_(
                "Nothing was created: after the name, description and tags /newgroup takes "
                "only “private” or “public” (私密, 公开), not “{word}”."
            ),
            word=extra[:40],
        )
    name, description, tags = [*parts, "", ""][:3]
    async with ctx.uow() as uow:
        group = await groups.create_group(
            uow,
            ctx.clock,
            ctx.me,
            name=name,
            description=description,
            tags=tags,
            private=bool(private),
            timezone=ctx.actor.timezone or ctx.services.settings.default_timezone,
        )
    async with ctx.uow(readonly=True) as uow:
        summary = await groups.group_summary(uow, ctx.me, str(group.id))
    text = ctx.t(
        "Created {name}. You're its owner. Invite people with /join {slug}.",
        name=group.name,
        slug=group.handle,
    )
    return Reply(cards=[note(text), group_card(summary, ctx.t)])


def _join_text(t: Translator, result: groups.JoinResult) -> str:
    name = result.group.name
    return {
        "joined": t("Welcome to {group}!", group=name),
        "already_member": t("You're already in {group}.", group=name),
        "requested": t("{group} is private: your request was sent to its admins.", group=name),
        "already_requested": t("Your request to join {group} is still waiting.", group=name),
    }[result.status]


async def _join(ctx: Context, ref: str) -> Reply:
    try:
        async with ctx.uow() as uow:
            result = await groups.join_group(uow, ctx.clock, ctx.me, ref)
    except groups.AmbiguousGroup as ambiguous:  # "chess": Chess Club or Chess Masters?
        async with ctx.uow(readonly=True) as uow:
            found = await groups.summaries(uow, ambiguous.candidates, ctx.me)
        title = ambiguous.render(ctx.t)
        return Reply(cards=[group_list_card(ctx.t, title, found, Act.JOIN)])
    async with ctx.uow(readonly=True) as uow:
        summary = await groups.group_summary(uow, ctx.me, str(result.group.id))
    text = _join_text(ctx.t, result)  # the admins hear of a request from core.membership_news
    return Reply(cards=[note(text), group_card(summary, ctx.t)], toast=text)


@command("join", usage=N_("/join <group>"), help=N_("Join a group"), section="groups")
async def join_command(ctx: Context, args: str) -> Reply:
    if args:
        return await _join(ctx, args)
    async with ctx.uow(readonly=True) as uow:
        found = [s for s in await groups.search_groups(uow, ctx.me) if not s.is_member]
    if not found:
        return Reply(
            cards=[note(ctx.t("You're in every group already. Create one with /newgroup."))]
        )
    return Reply(
        cards=[group_list_card(ctx.t, ctx.t("Which group do you want to join?"), found, Act.JOIN)]
    )


@on_action(Act.JOIN)
async def join_action(ctx: Context, action: Action) -> Reply:
    return await _join(ctx, str(action.id))


async def _leave(ctx: Context, ref: str) -> Reply:
    async with ctx.uow() as uow:  # asked to join and never let in: the request is taken back
        withdrawn = await groups.withdraw_request(uow, ctx.me, ref)
    if withdrawn is not None:
        text = ctx.t("Your request to join {group} was withdrawn.", group=withdrawn.name)
        return Reply(cards=[note(text)], toast=text)
    async with ctx.uow() as uow:
        group, _changes = await events.leave_and_release(uow, ctx.clock, ctx.me, ref)
    text = ctx.t("You left {group}.", group=group.name)
    async with ctx.uow(readonly=True) as uow:
        organised = await events.organised_coming(uow, ctx.clock, ctx.me, group.id)  # type: ignore[arg-type]
    card = note(text)
    if organised:  # they stay, as announced; changing them is now for the group's admins
        card.add(
            italic(
                ctx.t.ngettext(
                    "You organise {n} coming activity there: only the group's admins can "
                    "change it now, unless you join again.",
                    "You organise {n} coming activities there: only the group's admins can "
                    "change them now, unless you join again.",
                    organised,
                )
            )
        )
    return Reply(cards=[card], toast=text)


@command("leave", usage=N_("/leave <group>"), help=N_("Leave a group"), section="groups")
async def leave_command(ctx: Context, args: str) -> Reply:
    if args:
        return await _leave(ctx, args)
    only_in_private(ctx, "leave")  # the choice lists one's groups and requests, as /mygroups
    async with ctx.uow(readonly=True) as uow:
        mine = await groups.my_groups(uow, ctx.me, requested=True)
    if not mine:
        return Reply(cards=[note(ctx.t("You're not in any group yet. Try /groups."))])
    return Reply(
        cards=[group_list_card(ctx.t, ctx.t("Which group do you want to leave?"), mine, Act.LEAVE)]
    )


@on_action(Act.LEAVE)
async def leave_action(ctx: Context, action: Action) -> Reply:
    return await _leave(ctx, str(action.id))


@command("mygroups", usage=N_("/mygroups"), help=N_("Groups you're in"), section="groups")
async def mygroups_command(ctx: Context, args: str) -> Reply:
    only_in_private(ctx, "mygroups")  # which groups one is in, and asked to join
    async with ctx.uow(readonly=True) as uow:
        listed = await groups.my_groups(uow, ctx.me, requested=True)
    mine = [summary for summary in listed if not summary.is_pending]
    waiting = ", ".join(summary.group.name for summary in listed if summary.is_pending)
    if mine:
        card = group_list_card(ctx.t, ctx.t("Your groups"), mine, Act.GROUP)
    else:
        card = note(ctx.t("You're not in any group yet. Try /groups or /join."))
    if waiting:  # asked to join a private group: not theirs until an admin approves
        card.add(italic(ctx.t("Waiting for approval: {groups}", groups=waiting)))
    return Reply(cards=[card])


@command(
    "requests", usage=N_("/requests [group]"), help=N_("Pending join requests"), section="admin"
)
async def requests_command(ctx: Context, args: str) -> Reply:
    only_in_private(ctx, "requests")  # who asks to join a private group is for its admins
    if not args.strip():
        return await _groups_with_requests(ctx)
    async with ctx.uow(readonly=True) as uow:
        group, pending = await groups.pending_requests(uow, ctx.me, args)
    return Reply(cards=[_requests_card(ctx, group, pending)])


@on_action(Act.REQUESTS)
async def requests_action(ctx: Context, action: Action) -> Reply:
    return await requests_command(ctx, f"#{action.id}")


async def _groups_with_requests(ctx: Context) -> Reply:
    """/requests without a group: a button for each group of theirs where requests wait."""
    async with ctx.uow(readonly=True) as uow:
        waiting = await groups.groups_with_requests(uow, ctx.me)
    if not waiting:
        return Reply(cards=[note(ctx.t("No join requests wait in the groups you run."))])
    card = Card().add(bold(ctx.t("Join requests wait in these groups:")))
    for group, count in waiting:
        label = ctx.t("{group} · {count} waiting", group=group.name[:40], count=count)
        card.row(Button(label, act(Act.REQUESTS, group.id)))  # type: ignore[arg-type]
    return Reply(cards=[card])


def _requests_card(
    ctx: Context, group: Group, pending: list[Person], decided: str | None = None
) -> Card:
    """A group's waiting join requests, each with Approve and Decline; `decided`: what a tap
    on one just decided, said first (the tapped card is redrawn, so no decided request keeps
    its buttons)."""
    card = note(decided) if decided else Card()
    if decided is None or pending:
        card.add(bold(ctx.t("Join requests for {group}", group=group.name)))
    if not pending and decided is None:
        card.add(ctx.t("No pending requests."))
    for person in pending:
        card.add(plain("• "), plain(person.display_name))
        card.row(
            Button(
                ctx.t("✅ Approve {name}", name=person.display_name[:40]),
                act(Act.APPROVE, group.id, person.id),
            ),  # type: ignore[arg-type]
            Button(ctx.t("✖ Decline"), act(Act.REJECT, group.id, person.id)),  # type: ignore[arg-type]
        )
    return card


@on_action(Act.APPROVE, Act.REJECT)
async def decide_action(ctx: Context, action: Action) -> Reply:
    approve = action.act == Act.APPROVE
    group_id, person_id = action.args
    async with ctx.uow() as uow:
        _group, person = await groups.decide_request(
            uow, ctx.clock, ctx.me, group_id, person_id, approve=approve
        )
    text = (
        ctx.t("{name} is now a member.", name=person.display_name)
        if approve
        else ctx.t("Declined {name}.", name=person.display_name)
    )
    async with ctx.uow(readonly=True) as uow:
        group, pending = await groups.pending_requests(uow, ctx.me, f"#{group_id}")
    card = _requests_card(ctx, group, pending, decided=text)
    return Reply(cards=[card], toast=text, edit=True)  # they hear it from core.membership_news


async def _request_now(ctx: Context, action: Action) -> Card:
    """A join request's card as decided, for a tap on it that was refused (REDRAWN_WHEN_REFUSED):
    every admin is sent the request, and one decides; the others' cards kept their buttons,
    whose taps only said no. Now the tapped one says who decided what, then what still waits."""
    group_id, person_id = action.args
    async with ctx.uow(readonly=True) as uow:
        decided = await groups.decided_request(uow, ctx.me, group_id, person_id)
        group, pending = await groups.pending_requests(uow, ctx.me, f"#{group_id}")
    return _requests_card(ctx, group, pending, decided=_decision(ctx.t, group, decided))


def _decision(t: Translator, group: Group, decided: groups.Decided) -> str:
    name, status = decided.person.display_name, decided.membership.status
    admin = decided.decider.display_name if decided.decider else None
    if groups.withdrew(decided.membership):
        return t(groups.WITHDRAWN, name=name, group=group.name)
    if status == MembershipStatus.ACTIVE:
        if admin:
            return t("{admin} approved {name}.", admin=admin, name=name)
        return t("{name}'s request was already approved.", name=name)
    if status == MembershipStatus.DECLINED:
        if admin:
            return t("{admin} declined {name}.", admin=admin, name=name)
        return t("{name}'s request was already declined.", name=name)
    if status == MembershipStatus.BANNED:
        return t("{name} is banned from {group}.", name=name, group=group.name)
    return t("{name} is no longer waiting to join {group}.", name=name, group=group.name)


REDRAWN_WHEN_REFUSED.update(dict.fromkeys((Act.APPROVE, Act.REJECT), _request_now))


async def _group_then(ctx: Context, args: str) -> tuple[Group | None, str]:
    """'book club @bob' -> (Book club, '@bob'): the group a command starts with, by the longest
    run of words that names one (groups.find_group_at_start: "Book club", not a group found by
    "book" with "club @bob" for the person); None when nothing was typed."""
    if not args.strip():
        return None, ""
    async with ctx.uow(readonly=True) as uow:
        return await groups.find_group_at_start(uow, args)


def _ref(group: Group | None) -> str:
    """The group as a reference the service finds again ("": none, and the service asks)."""
    return f"#{group.id}" if group else ""


def _example(group: Group | None, command: str, rest: str) -> str:
    """A usage example about the group the command named ('/ban book-club @troll'): one about
    "hiking" only when it named none."""
    return f"/{command} {group.handle if group else 'hiking'} {rest}"


@command(
    "ban",
    usage=N_("/ban <group> <person>"),
    help=N_("Ban someone from a group (a name, @username or #number)"),
    section="admin",
)
async def ban_command(ctx: Context, args: str) -> Reply:
    named, who = await _group_then(ctx, args)
    if not who:
        example = _example(named, "ban", "@troll")
        return Reply(cards=[usage(ctx.t, ctx.t("Name the group and the person."), example)])
    async with ctx.uow() as uow:
        group, person, _changes = await events.ban_and_release(
            uow, ctx.clock, ctx.me, _ref(named), who
        )
    text = ctx.t("{name} is banned from {group}.", name=person.display_name, group=group.name)
    return Reply(cards=[note(text)])  # they hear it from core.membership_news


@command(
    "unban",
    usage=N_("/unban <group> <person>"),
    help=N_("Let a banned person join again"),
    section="admin",
)
async def unban_command(ctx: Context, args: str) -> Reply:
    named, who = await _group_then(ctx, args)
    if not who:
        example = _example(named, "unban", "#12")
        return Reply(cards=[usage(ctx.t, ctx.t("Name the group and the person."), example)])
    async with ctx.uow() as uow:
        group, person = await groups.unban_member(uow, ctx.me, _ref(named), who)
    text = ctx.t("{name} may join {group} again.", name=person.display_name, group=group.name)
    return Reply(cards=[note(text)])  # they hear it from core.membership_news


ROLE_COMMANDS = {Role.OWNER: "transfer", Role.ADMIN: "promote", Role.MEMBER: "demote"}


async def _set_role(ctx: Context, args: str, role: Role) -> Reply:
    named, who = await _group_then(ctx, args)
    if not who:
        example = _example(named, ROLE_COMMANDS[role], "@maya")
        return Reply(cards=[usage(ctx.t, ctx.t("Name the group and the person."), example)])
    async with ctx.uow() as uow:
        group, person = await groups.set_role(uow, ctx.me, _ref(named), who, role)
    name = person.display_name
    if role == Role.OWNER:
        text = ctx.t(
            "{name} now owns {group}; you're one of its admins.", name=name, group=group.name
        )
        return Reply(cards=[note(text)])  # they hear it from core.membership_news
    text = (
        ctx.t("{name} is now an admin of {group}.", name=name, group=group.name)
        if role == Role.ADMIN
        else ctx.t(
            "{name} is now a member of {group} (no longer an admin).", name=name, group=group.name
        )
    )
    return Reply(cards=[note(text)])


@command(
    "transfer",
    usage=N_("/transfer <group> <person>"),
    help=N_("Hand a group over to another member (owner only)"),
    section="admin",
)
async def transfer_command(ctx: Context, args: str) -> Reply:
    return await _set_role(ctx, args, Role.OWNER)


@command(
    "promote",
    usage=N_("/promote <group> <person>"),
    help=N_("Make a member an admin (owner only)"),
    section="admin",
)
async def promote_command(ctx: Context, args: str) -> Reply:
    return await _set_role(ctx, args, Role.ADMIN)


@command(
    "demote",
    usage=N_("/demote <group> <person>"),
    help=N_("Make an admin a member again (owner only)"),
    section="admin",
)
async def demote_command(ctx: Context, args: str) -> Reply:
    return await _set_role(ctx, args, Role.MEMBER)


@command(
    "grouptimezone",
    usage=N_("/grouptimezone <group> <timezone>"),
    help=N_("The timezone new activities' times are read in (admins only)"),
    section="admin",
)
async def grouptimezone_command(ctx: Context, args: str) -> Reply:
    named, value = await _group_then(ctx, args)
    if not named or not value:
        example = _example(named, "grouptimezone", "Europe/Berlin")
        return Reply(cards=[usage(ctx.t, ctx.t("Name the group and an IANA timezone."), example)])
    async with ctx.uow() as uow:
        group = await groups.set_timezone(uow, ctx.me, _ref(named), value)
    text = ctx.t(
        "New activities of {group} are now in {zone}; those already planned keep their time.",
        group=group.name,
        zone=group.timezone,
    )
    return Reply(cards=[note(text)])


@command(
    "memberevents",
    usage=N_("/memberevents <group> on|off"),
    help=N_("Let members create activities (admins only)"),
    section="admin",
)
async def memberevents_command(ctx: Context, args: str) -> Reply:
    named, value = await _group_then(ctx, args)
    if value.lower() not in ("on", "off"):
        example = _example(named, "memberevents", "on")
        return Reply(cards=[usage(ctx.t, ctx.t("Name the group, then on or off."), example)])
    async with ctx.uow() as uow:
        group = await groups.set_members_can_create_events(
            uow, ctx.me, _ref(named), value.lower() == "on"
        )
    text = (
        ctx.t("Members of {group} can now create activities.", group=group.name)
        if group.members_can_create_events
        else ctx.t("Only admins of {group} can create activities now.", group=group.name)
    )
    return Reply(cards=[note(text)])

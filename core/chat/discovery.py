"""Discovery commands: /setlocation, /nearby, /recommend, /interests, /companions; and the
dismiss, say-hi, accept, decline, block and report buttons."""

from __future__ import annotations

from datetime import datetime

from core.actions import Act, Action, act
from core.cards import Button, Card, Reply, Span, bold, italic, moment, note, plain, snippet
from core.chat.args import number
from core.chat.registry import Context, command, on_action, only_in_private
from core.errors import invalid
from core.hello_news import handles_text
from core.i18n import N_, Translator
from core.models import Event, Person
from core.parsing import parse_coordinates
from core.services import discovery, reports
from core.views import counts_text, event_buttons, fee_text, format_time

KIND_CODES = {1: "group", 2: "post", 3: "event"}
CODE_OF = {kind: code for code, kind in KIND_CODES.items()}


@command(
    "setlocation",
    usage=N_("/setlocation <lat,lng or a map link>"),
    help=N_("Your location, for activities nearby"),
    section="discover",
)
async def setlocation_command(ctx: Context, args: str) -> Reply:
    only_in_private(ctx, "setlocation")
    found = parse_coordinates(args)
    if found is None:
        raise invalid(
            "location_missing",
            N_(
                "Send coordinates like 52.52, 13.40 or a map link with them (on Telegram you "
                "can also share your location)."
            ),
        )
    async with ctx.uow() as uow:
        await discovery.set_location(uow, ctx.me, *found)
    text = ctx.t("Location saved. Try /nearby to see what's on around you.")
    return Reply(cards=[note(text)])


def distance_band(km: float, t: Translator) -> str:
    """Coarse on purpose: an exact distance from a location one can change at will would let
    anyone triangulate a companion's home."""
    if km < 5:
        return t("under 5 km")
    if km < 20:
        return t("5–20 km")
    if km < 50:
        return t("20–50 km")
    return t("over 50 km")


async def _person(ctx: Context) -> Person:
    async with ctx.uow(readonly=True) as uow:
        return await uow.session.get(Person, ctx.me)  # type: ignore[return-value]


def _nearby_card(page: discovery.NearbyPage, t: Translator, now: datetime) -> Card:
    card = Card().add(
        bold(t("Popular within {km} km", km=f"{page.radius_km:g}")),
        plain(f"  {page.page}/{page.pages}"),
    )
    if not page.items:
        card.add(t("Nothing coming up nearby. Try a bigger radius: /nearby 50"))
    for item in page.items:
        event = item.view.event
        card.add("")
        card.add(bold(event.title), plain(f"  #{event.id} · {item.view.group.name}"))
        card.add(plain(f"📍 {event.place} · {item.distance_km:.1f} km"))
        card.add(plain("🕒 "), _starts(event, t))
        card.add(plain(f"💶 {fee_text(item.view, t)} · 👥 {counts_text(item.view, t)}"))
        opened = Button(f"#{event.id} {event.title}"[:40], act(Act.EVENT, event.id))  # type: ignore[arg-type]
        deadline = event.signup_deadline
        if deadline is None or now <= deadline:  # as event_card and sign_up read it
            card.row(opened, event_buttons(item.view, t)[0])
        else:
            card.row(opened)
    nav = []
    radius = int(page.radius_km)
    if page.page > 1:
        nav.append(Button(t("◀ Previous"), act(Act.NEARBY, radius, page.page - 1)))
    if page.page < page.pages:
        nav.append(Button(t("Next ▶"), act(Act.NEARBY, radius, page.page + 1)))
    return card.row(*nav)


async def _nearby(ctx: Context, radius: float, page: int) -> Reply:
    only_in_private(ctx, "nearby")
    person = await _person(ctx)
    if person.latitude is None or person.longitude is None:
        raise invalid(
            "no_location",
            N_(
                "I don't know where you are yet: /setlocation 52.52, 13.40 "
                "(or share your location)."
            ),
        )
    async with ctx.uow(readonly=True) as uow:
        result = await discovery.nearby(
            uow,
            ctx.clock,
            ctx.me,
            person.latitude,
            person.longitude,
            radius,
            page,
            areas=ctx.services.areas,
        )
    return Reply(cards=[_nearby_card(result, ctx.t, ctx.clock.now())])


@command(
    "nearby",
    usage=N_("/nearby [radius in km]"),
    help=N_("Popular activities near you"),
    section="discover",
)
async def nearby_command(ctx: Context, args: str) -> Reply:
    radius = number(args.lower().removesuffix("km").strip()) if args else None
    if args and radius is None:
        raise invalid(
            "bad_radius",
            N_("The radius must be between 1 and {limit} km."),
            limit=int(discovery.MAX_RADIUS_KM),
        )
    # "/nearby 0" is refused by the service, not quietly read as the default radius
    return await _nearby(ctx, float(discovery.DEFAULT_RADIUS_KM if radius is None else radius), 1)


@on_action(Act.NEARBY)
async def nearby_page_action(ctx: Context, action: Action) -> Reply:
    radius, page = action.args
    reply = await _nearby(ctx, float(radius), page)
    reply.edit = True
    return reply


def _starts(event: Event, t: Translator) -> Span:
    """When an activity starts, as its card says it: in each reader's own time on Discord."""
    return moment(format_time(event.starts_at, event.timezone, t), event.starts_at)


def _dismiss(kind: str, item_id: int, t: Translator) -> Button:
    return Button(t("✖ Not for me"), act(Act.DISMISS, CODE_OF[kind], item_id))


def _recommend_card(found: discovery.Recommendations, t: Translator) -> Card:
    card = Card().add(bold(t("Suggestions for you")))
    if found.ask_interests:
        card.add(italic(t("Tell me what you like with /interests hiking, photography …")))
    reasons = {
        "co_members": lambda p: t.ngettext(
            "{n} person from your groups is here", "{n} people from your groups are here", p.shared
        ),
        "tags": lambda p: t("matches your interests"),
        "popular": lambda p: t("popular"),
    }
    if found.groups:
        card.add("").add(bold(t("Groups")))
    for pick in found.groups:
        card.add(plain(f"• {pick.group.name} · "), plain(reasons[pick.reason](pick)))
        card.row(
            Button(t("➕ Join {group}", group=pick.group.name[:30]), act(Act.JOIN, pick.group.id)),  # type: ignore[arg-type]
            _dismiss("group", pick.group.id, t),
        )  # type: ignore[arg-type]
    if found.posts:
        card.add("").add(bold(t("Posts")))
    for post, group, author, likes, replies in found.posts:
        card.add(
            plain(f"• {author} · {group.name} · ♥ {likes} · 💬 {replies}: "),
            plain(snippet(post.body, 80)),
        )
        card.row(
            Button(t("Read #{id}", id=post.id), act(Act.REPLIES, post.id)),  # type: ignore[arg-type]
            _dismiss("post", post.id, t),
        )  # type: ignore[arg-type]
    if found.events:
        card.add("").add(bold(t("Activities")))
    for view in found.events:
        event = view.event
        card.add(
            plain(f"• {event.title} · {view.group.name} · "),
            _starts(event, t),
        )
        card.row(
            Button(f"#{event.id} {event.title}"[:40], act(Act.EVENT, event.id)),  # type: ignore[arg-type]
            _dismiss("event", event.id, t),
        )  # type: ignore[arg-type]
    if not (found.groups or found.posts or found.events):
        card.add(t("Nothing new to suggest right now."))
    return card


@command(
    "recommend",
    usage=N_("/recommend"),
    help=N_("Groups, posts and activities for you"),
    section="discover",
)
async def recommend_command(ctx: Context, args: str) -> Reply:
    only_in_private(ctx, "recommend")
    async with ctx.uow(readonly=True) as uow:
        found = await discovery.recommend(uow, ctx.clock, ctx.me)
    return Reply(cards=[_recommend_card(found, ctx.t)])


@on_action(Act.DISMISS)
async def dismiss_action(ctx: Context, action: Action) -> Reply:
    code, item_id = action.args
    if code not in KIND_CODES:
        raise invalid("bad_dismissal", N_("That can't be dismissed."))
    async with ctx.uow() as uow:
        await discovery.dismiss(uow, ctx.me, KIND_CODES[code], item_id)
    reply = await recommend_command(ctx, "")
    reply.toast, reply.edit = ctx.t("OK, I won't suggest that again."), True
    return reply


@command(
    "interests",
    usage=N_("/interests [tags]"),
    help=N_("What you like, for suggestions"),
    section="discover",
)
async def interests_command(ctx: Context, args: str) -> Reply:
    only_in_private(ctx, "interests")
    if args:
        async with ctx.uow() as uow:
            tags = await discovery.set_interests(uow, ctx.me, args)
        if not tags:
            return Reply(cards=[note(ctx.t("Interests cleared."))])
        return Reply(cards=[note(ctx.t("Interests saved: {tags}", tags=", ".join(tags)))])
    person = await _person(ctx)
    shown = ", ".join(person.interests.split(",")) if person.interests else ctx.t("none yet")
    return Reply(
        cards=[
            note(
                ctx.t("Your interests: {tags}. Change them: /interests hiking, cycling", tags=shown)
            )
        ]
    )


@command(
    "companions",
    usage=N_("/companions [group or activity number]"),
    help=N_("People to go with (only those who opted in)"),
    section="discover",
)
async def companions_command(ctx: Context, args: str) -> Reply:
    only_in_private(ctx, "companions")
    async with ctx.uow(readonly=True) as uow:
        found = await discovery.companions(uow, ctx.me, args or None)
    t = ctx.t
    card = Card().add(bold(t("People you might go with")))
    if not found:
        where = (
            t("Nobody yet: only people who turned on /settings discoverable appear here.")
            if args
            else t(
                "Nobody yet: people appear here when they share a group with you and turned on "
                "/settings discoverable. Join a group (/groups), or ask about one: /companions "
                "hiking."
            )
        )
        card.add(where)
    for person in found:
        details = [*person.shared_interests, *person.shared_groups]
        distance = (
            f" · {distance_band(person.distance_km, t)}" if person.distance_km is not None else ""
        )
        card.add(
            plain("• "),
            bold(person.name),
            plain(f" · {', '.join(details[:5])}{distance}" if details or distance else ""),
        )
        card.row(
            Button(
                t("👋 Say hi to {name}", name=person.name[:30]), act(Act.HELLO, person.person_id)
            ),
            Button(t("🚫 Block"), act(Act.BLOCK, person.person_id)),
            Button(t("⚠️ Report"), act(Act.REPORT, person.person_id)),
        )
    return Reply(cards=[card])


@on_action(Act.HELLO)
async def hello_action(ctx: Context, action: Action) -> Reply:
    async with ctx.uow() as uow:
        await discovery.say_hi(uow, ctx.clock, ctx.me, action.id)
    text = ctx.t("Sent. If they accept, you'll both get each other's handle.")
    return Reply(toast=text, cards=[note(text)])  # they are asked by core.hello_news


@on_action(Act.ACCEPT_HELLO, Act.DECLINE_HELLO)
async def answer_hello_action(ctx: Context, action: Action) -> Reply:
    accept = action.act == Act.ACCEPT_HELLO
    async with ctx.uow() as uow:
        _, sender, _ = await discovery.answer_hi(uow, ctx.me, action.id, accept)
    if not accept:
        text = ctx.t("Declined. Nothing was shared.")
        return Reply(toast=text, cards=[note(text)], edit=True)
    async with ctx.uow(readonly=True) as uow:
        sender_handles = await discovery.handles(uow, sender.id)  # type: ignore[arg-type]
    text = handles_text(ctx.t, sender.display_name, sender_handles)
    # the sender gets the receiver's handles from core.hello_news
    return Reply(toast=ctx.t("Accepted."), cards=[note(text)], edit=True)


@on_action(Act.BLOCK)
async def block_action(ctx: Context, action: Action) -> Reply:
    async with ctx.uow() as uow:
        await discovery.block(uow, ctx.me, action.id)
    text = ctx.t("Blocked. You won't see each other in discovery.")
    return Reply(toast=text, cards=[note(text).add(italic(ctx.t("To undo it: /blocked")))])


@command(
    "blocked",
    usage=N_("/blocked"),
    help=N_("People you blocked, to unblock them"),
    section="discover",
)
async def blocked_command(ctx: Context, args: str) -> Reply:
    only_in_private(ctx, "blocked")  # whom one blocked: they may be in the chat
    async with ctx.uow(readonly=True) as uow:
        people = await discovery.blocked_by(uow, ctx.me)
    if not people:
        return Reply(cards=[note(ctx.t("You haven't blocked anyone."))])
    card = Card().add(bold(ctx.t("People you blocked")))
    for person in people[:LISTED_BLOCKS]:
        label = ctx.t("Unblock {name}", name=person.display_name)[:40]
        card.row(Button(label, act(Act.UNBLOCK, person.id)))  # type: ignore[arg-type]
    return Reply(cards=[card])


LISTED_BLOCKS = 50  # buttons in one message


@on_action(Act.UNBLOCK)
async def unblock_action(ctx: Context, action: Action) -> Reply:
    async with ctx.uow() as uow:
        person = await discovery.unblock(uow, ctx.me, action.id)
    text = ctx.t(
        "Unblocked {name}: you may see each other in discovery again.", name=person.display_name
    )
    return Reply(toast=text, cards=[note(text)])


@on_action(Act.REPORT)
async def report_action(ctx: Context, action: Action) -> Reply:
    async with ctx.uow() as uow:
        operators = ctx.services.settings.operators
        await reports.report_person(uow, ctx.clock, operators, ctx.me, action.id)
    text = (
        ctx.t("Reported to the operators, and blocked. Thank you.")
        if operators
        else ctx.t(  # OPERATOR_IDS unset: nobody reads person reports yet
            "Blocked, and your report is kept; this community has no operators yet to read it."
        )
    )
    return Reply(toast=text, cards=[note(text)])  # they hear of it from core.report_news

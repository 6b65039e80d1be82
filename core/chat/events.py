"""Activity commands and the sign-up buttons."""

from __future__ import annotations

from datetime import datetime, timedelta

from core import permissions
from core.actions import Act, Action, act
from core.cards import Button, Card, Reply, bold, italic, note, plain
from core.chat.args import fields, number
from core.chat.registry import (
    REDRAWN_WHEN_REFUSED,
    Context,
    command,
    on_action,
    only_in_private,
)
from core.durations import format_duration
from core.errors import invalid
from core.i18n import N_, PLATFORM_NAMES, Translator
from core.models import Event, Visibility
from core.parsing import (
    NONE_WORDS,
    example_day,
    parse_capacity,
    parse_coordinates,
    parse_fee,
    parse_guests,
    parse_local_datetime,
    parse_offer_window,
    parse_optional_text,
    parse_reminder_offsets,
)
from core.services import chats, events, groups, reminders
from core.services.events import EventDraft, EventView
from core.services.posts import require_shown_in
from core.views import (
    LOCAL_TIMES,
    attendees_card,
    event_card,
    event_list_card,
    usage,
)


def _event_id(ctx: Context, args: str, example: str) -> int:
    found = number(args.split(" ", 1)[0]) if args else None
    if found is None:
        raise invalid(
            "event_id_missing",
            N_("Which activity? Give its number, e.g. {example}"),
            example=example,
        )
    return found


async def _load_view(ctx: Context, event_id: int) -> EventView:
    async with ctx.uow(readonly=True) as uow:
        view = await events.get_event(uow, ctx.me, event_id)
        await require_shown_in(uow, view.group, ctx.chat)  # a private group's, not everywhere
    return view


async def _shown_here(ctx: Context, views: list[EventView]) -> list[EventView]:
    """Of these activities, those an answer in this chat may show: in a shared chat, a private
    group's only in one of its homes (require_shown_in)."""
    private = {v.group.id for v in views if v.group.visibility == Visibility.PRIVATE}
    if ctx.chat is None or not private:
        return views
    async with ctx.uow(readonly=True) as uow:
        homed = {
            group_id
            for group_id in private
            if ctx.chat in {(h.platform, h.chat_id) for h in await chats.home_chats(uow, group_id)}
        }
    return [v for v in views if v.group.id not in private or v.group.id in homed]


def _reader_zone(ctx: Context) -> str | None:
    """The reader's own timezone, where times are shown beside the activity's own: not in a
    group chat (many readers), nor where the platform shows each reader their time itself."""
    if ctx.in_group_chat or ctx.actor.platform in LOCAL_TIMES:
        return None
    return ctx.actor.timezone


def _card(ctx: Context, view: EventView) -> Card:
    return event_card(
        view,
        ctx.t,
        personal=not ctx.in_group_chat,
        reader_zone=_reader_zone(ctx),
        now=ctx.clock.now(),
    )


@command(
    "newevent",
    usage=N_("/newevent <group> | <title> | <YYYY-MM-DD HH:MM> | <place> [| fee] [| capacity]"),
    help=N_("Create an activity (time in the group's timezone)"),
    section="events",
)
async def newevent_command(ctx: Context, args: str) -> Reply:
    parts = fields(args)
    if len(parts) < 4:
        return Reply(
            cards=[
                usage(
                    ctx.t,
                    ctx.t(
                        "Give the group, title, date and time, place, "
                        "and optionally the fee and the number of seats."
                    ),
                    f"/newevent hiking | Sunrise hike | {example_day(ctx.clock.now())} 07:30 | "
                    "Trailhead | free | 12",
                )
            ]
        )
    if len(parts) > 6:
        raise invalid(
            "too_many_fields",
            N_("Too many parts: at most group | title | time | place | fee | capacity."),
        )
    return await create_from_fields(ctx, *[*parts, "", ""][:6])


async def create_from_fields(
    ctx: Context, ref: str, title: str, when: str, place: str, fee: str = "", capacity: str = ""
) -> Reply:
    """Create from typed fields (the one-liner, a Discord modal): parsed and checked the same
    way everywhere, the time read in the group's timezone, coordinates picked from the place."""
    async with ctx.uow(readonly=True) as uow:
        group = await groups.find_group(uow, ref)
    coordinates = parse_coordinates(place)
    draft = EventDraft(
        title=title,
        starts_at=parse_local_datetime(
            when, group.timezone, now=ctx.clock.now(), locale=ctx.t.locale
        ),
        place=place,
        fee=parse_fee(fee),
        capacity=parse_capacity(capacity),
        latitude=coordinates[0] if coordinates else None,
        longitude=coordinates[1] if coordinates else None,
    )
    return await create(ctx, group.ref, draft)


async def create(ctx: Context, ref: str, draft: EventDraft) -> Reply:
    """Create from a finished draft: the one path for the one-liner, the wizard and a modal.
    The activity's reminder offsets default to the configured REMINDER_OFFSETS."""
    if draft.reminder_offsets is None:
        draft.reminder_offsets = ctx.services.settings.default_offsets
    async with ctx.uow() as uow:
        # announced in the group's home chats (core.announcements); created in one of them,
        # the answer is the announcement there
        view = await events.create_event(uow, ctx.clock, ctx.me, ref, draft, answered_in=ctx.chat)
    text = ctx.t("Activity #{id} created. Share it with /event {id}.", id=view.event.id)
    return Reply(cards=[note(text), _card(ctx, view)])


EVENTS_PER_PAGE = 10  # a message of a few lines each, one button each


@command("events", usage=N_("/events [group]"), help=N_("Upcoming activities"), section="events")
async def events_command(ctx: Context, args: str) -> Reply:
    return await _events_page(ctx, args or None, 1)


@on_action(Act.GROUP_EVENTS)
async def group_events_action(ctx: Context, action: Action) -> Reply:
    return await _events_page(ctx, str(action.id), 1)


@on_action(Act.EVENTS_PAGE)
async def events_page_action(ctx: Context, action: Action) -> Reply:
    group_id, page = action.args
    return await _events_page(ctx, str(group_id) if group_id else None, max(page, 1))


async def _events_page(ctx: Context, ref: str | None, page: int) -> Reply:
    """A page of upcoming activities (of one group, or of every group the person may see),
    with a button to the next page when there are more: a busy community has more than one
    message shows."""
    async with ctx.uow(readonly=True) as uow:
        found = await events.upcoming(
            uow,
            ctx.clock,
            ctx.me,
            ref,
            limit=EVENTS_PER_PAGE + 1,  # one more, to know whether a next page exists
            offset=(page - 1) * EVENTS_PER_PAGE,
        )
    found = await _shown_here(ctx, found)
    if not found:
        text = (
            ctx.t("No upcoming activities. Organizers create them with /newevent.")
            if page == 1
            else ctx.t("No more upcoming activities.")
        )
        return Reply(cards=[note(text)])
    shown = found[:EVENTS_PER_PAGE]
    title = (
        ctx.t("Upcoming activities")
        if page == 1
        else ctx.t("Upcoming activities, page {page}", page=page)
    )
    card = event_list_card(title, shown, ctx.t, _reader_zone(ctx), personal=not ctx.in_group_chat)
    if len(found) > EVENTS_PER_PAGE:
        group_id = shown[0].group.id if ref else 0
        card.row(Button(ctx.t("More ▶"), act(Act.EVENTS_PAGE, group_id, page + 1)))  # type: ignore[arg-type]
    return Reply(cards=[card])


@command(
    "event",
    usage=N_("/event <number>"),
    help=N_("Show an activity with its sign-up buttons"),
    section="events",
)
async def event_command(ctx: Context, args: str) -> Reply:
    return Reply(cards=[_card(ctx, await _load_view(ctx, _event_id(ctx, args, "/event 3")))])


@on_action(Act.EVENT)
async def event_action(ctx: Context, action: Action) -> Reply:
    return Reply(cards=[_card(ctx, await _load_view(ctx, action.id))])


@command(
    "myevents", usage=N_("/myevents"), help=N_("Activities you signed up for"), section="events"
)
async def myevents_command(ctx: Context, args: str) -> Reply:
    only_in_private(ctx, "myevents")  # what one signed up for
    async with ctx.uow(readonly=True) as uow:
        mine = await events.my_events(uow, ctx.clock, ctx.me)
    if not mine:
        return Reply(cards=[note(ctx.t("You haven't signed up for anything yet. See /events."))])
    return Reply(cards=[event_list_card(ctx.t("Your activities"), mine, ctx.t, _reader_zone(ctx))])


def signup_text(t: Translator, result: events.SignupResult) -> str:
    return {
        "confirmed": t("You're in!"),
        "waitlisted": t("It's full: you're #{position} on the waitlist.", position=result.position),
        "already_confirmed": t("Already signed up."),
        "already_waitlisted": t("Already on the waitlist (#{position}).", position=result.position),
    }[result.status]


async def sign_up(ctx: Context, event_id: int) -> Reply:
    async with ctx.uow() as uow:
        result = await events.sign_up(uow, ctx.clock, ctx.me, event_id)
    return Reply(
        cards=[_card(ctx, result.view)],
        toast=signup_text(ctx.t, result),
        edit=True,
    )


async def cancel_signup(ctx: Context, event_id: int) -> Reply:
    """❌ Cancel, /unsignup, and a reminder's Release my spot: what is given up is said as it
    was (a maybe never signed up: a reminder sent before maybes had their own buttons still
    carries Release my spot)."""
    async with ctx.uow() as uow:
        change = await events.cancel_signup(uow, ctx.clock, ctx.me, event_id)
    text = {
        "waitlisted": ctx.t("You left the waitlist."),
        "maybe": ctx.t("You're no longer a maybe."),
    }.get(change.previous_status or "", ctx.t("Your sign-up is cancelled."))
    return Reply(
        cards=[_card(ctx, change.view)],
        toast=text,
        edit=True,
    )


async def _card_now(ctx: Context, action: Action) -> Card:
    """The activity's card as it stands, for a tap that was refused (REDRAWN_WHEN_REFUSED)."""
    return _card(ctx, await _load_view(ctx, action.id))


REDRAWN_WHEN_REFUSED.update(
    dict.fromkeys(
        (
            Act.SIGN_UP,
            Act.CANCEL_SIGNUP,
            Act.MAYBE,
            Act.GUEST_MORE,
            Act.GUEST_FEWER,
            Act.ACCEPT_OFFER,
            Act.PASS_OFFER,
            Act.REMIND_MAYBE,
            Act.NO_REMINDERS,
        ),
        _card_now,
    )
)


@on_action(Act.SIGN_UP)
async def signup_action(ctx: Context, action: Action) -> Reply:
    return await sign_up(ctx, action.id)


@on_action(Act.MAYBE)
async def maybe_action(ctx: Context, action: Action) -> Reply:
    return await _maybe(ctx, action.id)


async def _maybe(ctx: Context, event_id: int) -> Reply:
    async with ctx.uow() as uow:
        change = await events.maybe(uow, ctx.clock, ctx.me, event_id)
    text = (
        ctx.t("You're already a maybe.")
        if change.previous_status == "maybe"
        else ctx.t("Marked as maybe: no seat is held for you. Sign up when you know.")
    )
    return Reply(
        cards=[_card(ctx, change.view)],
        toast=text,
        edit=True,
    )


@on_action(Act.GUEST_MORE, Act.GUEST_FEWER)
async def guests_action(ctx: Context, action: Action) -> Reply:
    delta = 1 if action.act == Act.GUEST_MORE else -1
    async with ctx.uow() as uow:
        change = await events.change_guests(uow, ctx.clock, ctx.me, action.id, delta)
    view = change.view
    if view.viewer_status == "waitlisted":
        text = ctx.t(
            "Your party of {n} waits as one: #{position} on the waitlist.",
            n=1 + view.viewer_guests,
            position=view.viewer_position,
        )
    else:
        text = ctx.t.ngettext(
            "You're going, with {n} guest.", "You're going, with {n} guests.", view.viewer_guests
        )
    return Reply(
        cards=[_card(ctx, view)],
        toast=text,
        edit=True,
    )


@on_action(Act.ACCEPT_OFFER, Act.PASS_OFFER)
async def offer_action(ctx: Context, action: Action) -> Reply:
    accept = action.act == Act.ACCEPT_OFFER
    async with ctx.uow() as uow:
        change = await events.answer_offer(uow, ctx.clock, ctx.me, action.id, accept=accept)
    text = (
        ctx.t("The seat is yours. See you there!")
        if accept
        else ctx.t("Passed on: the seat goes to the next person waiting.")
    )
    return Reply(
        cards=[_card(ctx, change.view)],
        toast=text,
        edit=True,
    )


@on_action(Act.REMIND_MAYBE, Act.NO_REMINDERS)
async def remind_maybe_action(ctx: Context, action: Action) -> Reply:
    remind = action.act == Act.REMIND_MAYBE
    async with ctx.uow() as uow:
        view = await events.remind_maybe(uow, ctx.clock, ctx.me, action.id, remind=remind)
    text = (
        ctx.t("You'll get the reminders too.")
        if remind
        else ctx.t("No reminders for you: you're still a maybe.")
    )
    return Reply(cards=[_card(ctx, view)], toast=text, edit=True)


def _as_answer(reply: Reply) -> Reply:
    """A tap's reply made a command's: what the tap's toast says comes first, as a message (a
    command has no toast, and no card of its own to edit)."""
    return Reply(cards=[note(reply.toast or ""), *reply.cards])


@command(
    "maybe",
    usage=N_("/maybe <number>"),
    help=N_("Interested, not sure yet: no seat is held"),
    section="events",
)
async def maybe_command(ctx: Context, args: str) -> Reply:
    return _as_answer(await _maybe(ctx, _event_id(ctx, args, "/maybe 3")))


@on_action(Act.CANCEL_SIGNUP, Act.RELEASE)
async def cancel_action(ctx: Context, action: Action) -> Reply:
    return await cancel_signup(ctx, action.id)


@command(
    "signup", usage=N_("/signup <number>"), help=N_("Sign up for an activity"), section="events"
)
async def signup_command(ctx: Context, args: str) -> Reply:
    return _as_answer(await sign_up(ctx, _event_id(ctx, args, "/signup 3")))


@command(
    "unsignup", usage=N_("/unsignup <number>"), help=N_("Cancel your sign-up"), section="events"
)
async def unsignup_command(ctx: Context, args: str) -> Reply:
    return _as_answer(await cancel_signup(ctx, _event_id(ctx, args, "/unsignup 3")))


@command("who", usage=N_("/who <number>"), help=N_("Who's going to an activity"), section="events")
async def who_command(ctx: Context, args: str) -> Reply:
    return await _who(ctx, _event_id(ctx, args, "/who 3"))


async def _who(ctx: Context, event_id: int) -> Reply:
    async with ctx.uow(readonly=True) as uow:
        result = await events.attendees(uow, ctx.me, event_id)
        await require_shown_in(uow, result.view.group, ctx.chat)  # a private group's roster
    return Reply(cards=[attendees_card(result, ctx.t)])


@on_action(Act.WHO)
async def who_action(ctx: Context, action: Action) -> Reply:
    return await _who(ctx, action.id)


EDIT_FIELDS = {
    "title": "title",
    "place": "place",
    "description": "description",
    "time": "starts_at",
    "fee": "fee",
    "capacity": "capacity",
    "deadline": "signup_deadline",
    "reminders": "reminder_offsets",
    "guests": "max_guests",
    "offers": "offer_seconds",
}
#: What an activity cannot be without: "none" there is refused, not stored as the text.
REQUIRED_FIELDS = {"title", "place", "starts_at"}


@command(
    "editevent",
    usage=N_(
        "/editevent <number> "
        "<title|time|place|fee|capacity|deadline|description|reminders|guests|offers> <value>"
    ),
    help=N_("Change an activity (organizer or admin)"),
    section="events",
)
async def editevent_command(ctx: Context, args: str) -> Reply:
    event_id = _event_id(ctx, args, "/editevent 3 capacity 20")
    _, _, field_and_value = args.strip().partition(" ")  # the number has no spaces
    field_name, _, value = field_and_value.partition(" ")
    name = EDIT_FIELDS.get(field_name.lower())
    if name is None:
        return Reply(
            cards=[
                usage(
                    ctx.t,
                    ctx.t(
                        "Say what to change: title, time, place, fee, capacity, "
                        "deadline, description, reminders, guests or offers."
                    ),
                    f"/editevent 3 time {example_day(ctx.clock.now())} 08:00",
                )
            ]
        )
    if not value.strip():  # not a clearing: "none" says that (a slip of Enter emptied fields)
        return value_missing(ctx, "/editevent", event_id, field_name)
    changes = await parsed_change(ctx, event_id, name, value)
    async with ctx.uow() as uow:
        result = await events.edit_event(uow, ctx.clock, ctx.me, event_id, **changes)
    text = (
        ctx.t("Activity #{id} updated.", id=event_id)
        if result.changed
        else ctx.t("Nothing changed.")
    )
    answer = note(text)
    setting = _setting_now(ctx.t, result.view.event, name, ctx.clock.now())
    if setting:
        answer.add(italic(setting))
    # who is on the roster hears of a new time, place or fee from core.roster_news
    return Reply(cards=[answer, _card(ctx, result.view)])


def _setting_now(t: Translator, event: Event, name: str, now: datetime) -> str | None:
    """How a setting the card does not show now stands, in words, so that the organiser sees
    what their edit did (the card answers for the rest). A reminder whose time has passed
    already is never sent (core.services.reminders schedules none): the organiser is told
    here, the one moment they can still choose another."""
    if name == "reminder_offsets":
        offsets = sorted(reminders.event_offsets(event), reverse=True)
        if not offsets:
            return t("No reminders for this activity.")
        before = ", ".join(format_duration(o) for o in offsets)
        said = t("Reminders go out {offsets} before the start.", offsets=before)
        passed = [o for o in offsets if event.starts_at - o <= now]
        if passed and event.starts_at > now:
            late = ", ".join(format_duration(o) for o in passed)
            said += " " + t("Already past, so never sent: {offsets} before.", offsets=late)
        return said
    if name == "offer_seconds":
        if not event.offer_seconds:
            return t("A freed seat goes straight to the next in line.")
        window = format_duration(timedelta(seconds=event.offer_seconds))
        return t("A freed seat is held {window} for the next in line to accept.", window=window)
    return None


def value_missing(ctx: Context, command: str, event_id: int, field: str) -> Reply:
    """A field of EDIT_FIELDS named without its new value: nothing changes (/editevent,
    /editseries). The answer shows that field with a value, and offers "none" only where it
    clears something."""
    name = EDIT_FIELDS[field.lower()]
    text = (
        ctx.t("Nothing changed: say the new {field} after it.", field=field)
        if name in REQUIRED_FIELDS
        else ctx.t("Nothing changed: say the new {field} after it; none clears it.", field=field)
    )
    example = f"{command} {event_id} {field.lower()} {_example_value(name, ctx.clock.now())}"
    return Reply(cards=[usage(ctx.t, text, example)])


def _example_value(name: str, now: datetime) -> str:
    """A value of the field `name` (of EDIT_FIELDS) that an example can show: one that works
    as it is, the times on a coming day."""
    day = example_day(now)
    return {
        "title": "Sunrise hike",
        "place": "Trailhead",
        "description": "Bring water and a headlamp.",
        "starts_at": f"{day} 08:00",
        "fee": "10 EUR",
        "capacity": "20",
        "signup_deadline": f"{day} 06:00",
        "reminder_offsets": "24h,1h",
        "max_guests": "2",
        "offer_seconds": "2h",
    }[name]


async def parsed_change(ctx: Context, event_id: int, name: str, value: str) -> dict[str, object]:
    """A typed value for a field of EDIT_FIELDS, parsed as the activity reads it (its zone),
    as edit_event takes it (/editevent, and /editseries for every occurrence)."""
    if name in REQUIRED_FIELDS and value.strip().lower() in NONE_WORDS:
        field = next(word for word, attribute in EDIT_FIELDS.items() if attribute == name)
        raise invalid(
            "cannot_clear",
            N_("Nothing changed: the {field} can't be cleared. Say the new {field} after it."),
            field=field,
        )
    current = await _load_view(ctx, event_id)
    parsed: object = value
    if name == "starts_at":
        parsed = parse_local_datetime(
            value, current.event.timezone, now=ctx.clock.now(), locale=ctx.t.locale
        )
    elif name == "signup_deadline":
        parsed = (
            None
            if value.strip().lower() in NONE_WORDS
            else parse_local_datetime(
                value, current.event.timezone, now=ctx.clock.now(), locale=ctx.t.locale
            )
        )
    elif name == "description":
        parsed = parse_optional_text(value)
    elif name == "fee":
        parsed = parse_fee(value)
    elif name == "capacity":
        parsed = parse_capacity(value)
    elif name == "reminder_offsets":
        parsed = parse_reminder_offsets(value)
    elif name == "max_guests":
        parsed = parse_guests(value)
    elif name == "offer_seconds":
        parsed = parse_offer_window(value)
    changes: dict[str, object] = {name: parsed}
    if name == "place":
        coordinates = parse_coordinates(value)
        changes.update(
            latitude=coordinates[0] if coordinates else None,
            longitude=coordinates[1] if coordinates else None,
        )
    return changes


@command(
    "cancelevent",
    usage=N_("/cancelevent <number>"),
    help=N_("Cancel an activity (organizer or admin)"),
    section="events",
)
async def cancelevent_command(ctx: Context, args: str) -> Reply:
    event_id = _event_id(ctx, args, "/cancelevent 3")
    async with ctx.uow() as uow:
        await events.cancel_event(uow, ctx.clock, ctx.me, event_id)  # core.roster_news tells
    return Reply(
        cards=[note(ctx.t("Activity #{id} is cancelled; everyone signed up is told.", id=event_id))]
    )


@command(
    "deliveries",
    usage=N_("/deliveries <number>"),
    help=N_("Reminder delivery log of an activity (organizer or admin)"),
    section="events",
)
async def deliveries_command(ctx: Context, args: str) -> Reply:
    only_in_private(ctx, "deliveries")  # who could not be reached, and why: not for a group
    event_id = _event_id(ctx, args, "/deliveries 3")
    view = await _load_view(ctx, event_id)
    if not view.can_manage:
        raise permissions.not_event_manager()
    async with ctx.uow(readonly=True) as uow:
        log = await reminders.delivery_log(uow, event_id)
        skipped = await reminders.skipped_count(uow, event_id)
    t = ctx.t
    card = Card().add(bold(t("Reminders for ")), bold(view.event.title))
    sent = sum(1 for entry in log if entry.status == "sent")
    card.add(t("{sent} sent, {failed} failed.", sent=sent, failed=len(log) - sent))
    if skipped:
        card.add(
            t.ngettext(
                "{n} reminder skipped: it came due after the start.",
                "{n} reminders skipped: they came due after the start.",
                skipped,
            )
        )
    for entry in log[-50:]:
        card.add(*_delivery_line(t, entry))
    if not log:
        card.add(italic(t("No reminder has gone out yet.")))
    return Reply(cards=[card])


DELIVERY_MARKS = {"sent": "✅", "failed": "⚠️", "sending": "…"}


def _delivery_line(t: Translator, entry: reminders.LogEntry) -> list:
    """One delivery: to whom, which reminder, the platform it went by, and what failed (for a
    reminder sent, what failed before: the reason it went by another platform)."""
    line = [
        plain(f"{DELIVERY_MARKS.get(entry.status, '')} "),
        plain(entry.name),
        plain(f" · {format_duration(timedelta(seconds=entry.offset_seconds))}"),
    ]
    sent = entry.status == "sent"
    if sent and entry.platform:
        platform = PLATFORM_NAMES.get(entry.platform, entry.platform)
        line.append(plain(" · " + t("via {platform}", platform=platform)))
    if entry.reason:
        reason = "; ".join(
            t(part) if part in reminders.OUR_REASONS else part for part in entry.reason.split("; ")
        )
        line.append(plain(" · " + (t("tried first: {reason}", reason=reason) if sent else reason)))
    return line

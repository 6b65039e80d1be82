"""Recurring activities: /repeat, /editseries, /cancelseries, and signing up for a series
(🔁 Every time on an occurrence's card, /joinseries, /leaveseries)."""

from __future__ import annotations

from core.actions import Act, Action
from core.cards import Reply, italic, note
from core.chat.args import number
from core.chat.events import EDIT_FIELDS, parsed_change, value_missing
from core.chat.registry import Context, command, on_action
from core.i18n import N_, Translator
from core.services import series
from core.views import format_day, usage

KIND_WORDS = {
    "weekly": "weekly",
    "biweekly": "biweekly",
    "fortnightly": "biweekly",
    "monthly": "monthly",
    "monthly-weekday": "monthly-weekday",
}


#: How a series repeats, in words (its RRULE, series.rule_for, is for calendars).
HOW = {
    "weekly": N_("every week"),
    "biweekly": N_("every 2 weeks"),
    "monthly": N_("every month"),
    "monthly-weekday": N_("every month on the same weekday"),
}


def _id(args: str) -> int | None:
    return number(args.split(" ", 1)[0]) if args.strip() else None


@command(
    "repeat",
    usage=N_(
        "/repeat <number> <weekly|biweekly|monthly|monthly-weekday> [times <n> | until <date>]"
    ),
    help=N_("Make an activity repeat (organizer or admin)"),
    section="events",
)
async def repeat_command(ctx: Context, args: str) -> Reply:
    words = args.split()
    event_id = _id(args)
    kind = KIND_WORDS.get(words[1].lower()) if len(words) > 1 else None
    if event_id is None or kind is None:
        return Reply(
            cards=[
                usage(
                    ctx.t,
                    ctx.t("Give the activity, how often, and optionally an end."),
                    "/repeat 3 weekly times 8",
                )
            ]
        )
    count = until = None
    rest = words[2:]
    if {"times", "until"} <= {word.lower() for word in rest}:
        return Reply(
            cards=[
                usage(
                    ctx.t,
                    ctx.t("A series ends after some times or on a date, not both: give one."),
                    "/repeat 3 weekly until 2027-06-30",
                )
            ]
        )
    if len(rest) == 2 and rest[0].lower() == "times":
        count = number(rest[1])
        if count is None:
            return Reply(
                cards=[
                    usage(ctx.t, ctx.t("How many times, as a number?"), "/repeat 3 weekly times 8")
                ]
            )
    elif len(rest) >= 2 and rest[0].lower() == "until":
        until = " ".join(rest[1:])
    elif rest:  # words it would otherwise drop: "times 3 4", "forever"
        return Reply(
            cards=[
                usage(
                    ctx.t,
                    ctx.t("End a series with times <n> or until <date>, or give no end."),
                    "/repeat 3 weekly times 8",
                )
            ]
        )
    async with ctx.uow() as uow:
        made = await series.repeat(uow, ctx.clock, ctx.me, event_id, kind, count=count, until=until)
    answer = note(_repeats(ctx.t, event_id, kind, made))
    day = made.series.starts_local.day
    if kind == "monthly" and day > 28:  # as calendars repeat it: no 31 February
        answer.add(italic(ctx.t("Months with no day {day} are skipped.", day=day)))
    return Reply(cards=[answer])


def _repeats(t: Translator, event_id: int, kind: str, made: series.Made) -> str:
    """How the activity now repeats, in words: "every 2 weeks until 1 Feb 2027"."""
    how, ahead = t(HOW[kind]), len(made.created)
    if made.count is not None:
        return t(
            "Activity #{id} now repeats {how}, {times}; {ahead} more made ahead, the next ones "
            "follow as time passes.",
            id=event_id,
            how=how,
            times=t.ngettext("{n} time in all", "{n} times in all", made.count),
            ahead=ahead,
        )
    if made.until is not None:
        return t(
            "Activity #{id} now repeats {how} until {end}; {ahead} more made ahead, the next "
            "ones follow as time passes.",
            id=event_id,
            how=how,
            end=format_day(made.until, t),
            ahead=ahead,
        )
    return t(
        "Activity #{id} now repeats {how}; {ahead} more made ahead, the next ones follow as "
        "time passes.",
        id=event_id,
        how=how,
        ahead=ahead,
    )


@command(
    "editseries",
    usage=N_(
        "/editseries <number> "
        "<title|place|fee|capacity|description|reminders|guests|offers> <value>"
    ),
    help=N_("Change every coming occurrence of a series"),
    section="events",
)
async def editseries_command(ctx: Context, args: str) -> Reply:
    event_id = _id(args)
    _, _, field_and_value = args.strip().partition(" ")
    field_name, _, value = field_and_value.partition(" ")
    name = EDIT_FIELDS.get(field_name.lower())
    if event_id is None or name is None:
        text = (
            ctx.t("Give an occurrence, the field and the value.")
            if event_id is None
            else ctx.t(
                "Say what to change on every coming occurrence: title, place, fee, capacity, "
                "description, reminders, guests or offers."
            )
        )
        return Reply(cards=[usage(ctx.t, text, "/editseries 3 place Old bridge")])
    if not value.strip():
        return value_missing(ctx, "/editseries", event_id, field_name)
    changes = await parsed_change(ctx, event_id, name, value)
    async with ctx.uow() as uow:
        results = await series.edit(uow, ctx.clock, ctx.me, event_id, changes)
    text = ctx.t.ngettext(
        "{n} coming occurrence updated.", "{n} coming occurrences updated.", len(results)
    )
    return Reply(cards=[note(text)])


@command(
    "cancelseries",
    usage=N_("/cancelseries <number>"),
    help=N_("Cancel every coming occurrence of a series"),
    section="events",
)
async def cancelseries_command(ctx: Context, args: str) -> Reply:
    event_id = _id(args)
    if event_id is None:
        return Reply(
            cards=[
                usage(ctx.t, ctx.t("Which series? Give one of its activities."), "/cancelseries 3")
            ]
        )
    async with ctx.uow() as uow:
        results = await series.cancel(uow, ctx.clock, ctx.me, event_id)  # core.roster_news tells
    text = ctx.t.ngettext(
        "The series is cancelled: {n} coming occurrence, everyone signed up is told.",
        "The series is cancelled: {n} coming occurrences, everyone signed up is told.",
        len(results),
    )
    return Reply(cards=[note(text)])


async def _join(ctx: Context, event_id: int) -> Reply:
    async with ctx.uow() as uow:
        joined = await series.join(uow, ctx.clock, ctx.me, event_id)
    if joined.already:
        text = ctx.t("You're already signed up for every occurrence of this series.")
        return Reply(cards=[note(text)], toast=text)
    n, seats = len(joined.results), joined.seats
    if n == 0:
        text = ctx.t("You're signed up for this series: its next dates will sign you up.")
    elif seats == n:
        text = ctx.t.ngettext(
            "You're signed up for every occurrence: {n} is coming, with a seat for you; new "
            "ones sign you up too.",
            "You're signed up for every occurrence: {n} are coming, with a seat for you on "
            "each; new ones sign you up too.",
            n,
        )
    elif seats == 0:
        text = ctx.t.ngettext(
            "You're signed up for every occurrence: {n} is coming, and you're on its waitlist; "
            "new ones sign you up too.",
            "You're signed up for every occurrence: {n} are coming, and you're on the waitlist "
            "of each; new ones sign you up too.",
            n,
        )
    else:  # some of two or more
        text = ctx.t(
            "You're signed up for every occurrence: a seat on {seats} of the {n} coming ones, "
            "the waitlist on the rest; new ones sign you up too.",
            seats=seats,
            n=n,
        )
    return Reply(cards=[note(text)], toast=text)


@on_action(Act.SERIES_JOIN)
async def series_join_action(ctx: Context, action: Action) -> Reply:
    return await _join(ctx, action.id)


@command(
    "joinseries",
    usage=N_("/joinseries <number>"),
    help=N_("Sign up for every occurrence of a series"),
    section="events",
)
async def joinseries_command(ctx: Context, args: str) -> Reply:
    event_id = _id(args)
    if event_id is None:
        return Reply(
            cards=[
                usage(ctx.t, ctx.t("Which series? Give one of its activities."), "/joinseries 3")
            ]
        )
    return await _join(ctx, event_id)


@command(
    "leaveseries",
    usage=N_("/leaveseries <number>"),
    help=N_("Stop being signed up for new occurrences"),
    section="events",
)
async def leaveseries_command(ctx: Context, args: str) -> Reply:
    event_id = _id(args)
    if event_id is None:
        return Reply(
            cards=[
                usage(ctx.t, ctx.t("Which series? Give one of its activities."), "/leaveseries 3")
            ]
        )
    async with ctx.uow() as uow:
        await series.leave(uow, ctx.me, event_id)
    return Reply(
        cards=[note(ctx.t("New occurrences no longer sign you up; places you hold stay yours."))]
    )

"""Attendance: /checkin (tap people present), /noshows for a group's admins, /export as CSV.

Each answers in a private chat only: it is other people's attendance, names and accounts, for
the organiser or the admins, not for everyone in a group chat."""

from __future__ import annotations

import csv
import io

from core.actions import Act, Action, act
from core.cards import Attachment, Button, Card, Reply, bold, note, plain
from core.chat.args import number
from core.chat.registry import Context, command, on_action, only_in_private
from core.i18n import N_, Translator
from core.services import attendance
from core.views import usage


def _check_in_card(check_in: attendance.CheckIn, t: Translator) -> Card:
    event = check_in.event
    present = sum(1 for p in check_in.people if p.attended)
    card = Card().add(bold(t("Check-in: {title}", title=event.title)), plain(f"  #{event.id}"))
    card.add(
        t(
            "Present: {n} of {total}. Tap a name to mark them.",
            n=present,
            total=len(check_in.people),
        )
    )
    if not check_in.people:
        card.add(t("Nobody has a seat."))
    for person in check_in.people:
        mark = "☑ " if person.attended else "⬜ "
        party = f" (+{person.guests})" if person.guests else ""
        card.row(
            Button(mark + person.name[:40] + party, act(Act.CHECK_IN, event.id, person.person_id))
        )  # type: ignore[arg-type]
    return card


@command(
    "checkin",
    usage=N_("/checkin <activity number>"),
    help=N_("Mark who came (organizer, from an hour before the start)"),
    section="events",
)
async def checkin_command(ctx: Context, args: str) -> Reply:
    only_in_private(ctx, "checkin")  # everyone's attendance, tapped by the organiser alone
    event_id = number(args) if args else None
    if event_id is None:
        return Reply(cards=[usage(ctx.t, ctx.t("Which activity?"), "/checkin 3")])
    async with ctx.uow() as uow:
        check_in = await attendance.open_check_in(uow, ctx.clock, ctx.me, event_id)
    return Reply(cards=[_check_in_card(check_in, ctx.t)])


@on_action(Act.CHECK_IN)
async def checkin_action(ctx: Context, action: Action) -> Reply:
    event_id, person_id = action.args
    async with ctx.uow() as uow:
        check_in = await attendance.toggle(uow, ctx.clock, ctx.me, event_id, person_id)
    marked = next((p for p in check_in.people if p.person_id == person_id), None)
    toast = (
        ctx.t("{name}: present.", name=marked.name)
        if marked and marked.attended
        else ctx.t("{name}: not there.", name=marked.name if marked else "?")
    )
    return Reply(cards=[_check_in_card(check_in, ctx.t)], toast=toast, edit=True)


@command(
    "noshows",
    usage=N_("/noshows <group>"),
    help=N_("Who signed up but did not come, per person (admins)"),
    section="admin",
)
async def noshows_command(ctx: Context, args: str) -> Reply:
    only_in_private(ctx, "noshows")  # who missed what is for the admins, not the whole chat
    ref = args.strip()  # the group's whole name: "/noshows book club"
    if not ref:
        return Reply(cards=[usage(ctx.t, ctx.t("Which group?"), "/noshows hiking")])
    async with ctx.uow(readonly=True) as uow:
        rows = await attendance.no_shows(uow, ctx.clock, ctx.me, ref)
    card = Card().add(bold(ctx.t("No-shows in checked-in activities")))
    if not rows:
        card.add(ctx.t("No activity of this group was checked in yet."))
    for name, missed, total in rows:
        card.add(
            plain(
                ctx.t("• {name}: missed {missed} of {total}", name=name, missed=missed, total=total)
            )
        )
    return Reply(cards=[card])


@command(
    "export",
    usage=N_("/export <activity number>"),
    help=N_("The roster as a CSV file (organizer or admin)"),
    section="events",
)
async def export_command(ctx: Context, args: str) -> Reply:
    only_in_private(ctx, "export")  # names, accounts and statuses of everyone on the roster
    event_id = number(args) if args else None
    if event_id is None:
        return Reply(cards=[usage(ctx.t, ctx.t("Which activity?"), "/export 3")])
    async with ctx.uow(readonly=True) as uow:
        event, rows = await attendance.roster(uow, ctx.me, event_id)
    card = note(ctx.t("The roster of {title}, as a spreadsheet file.", title=event.title))
    card.file = Attachment(f"roster-{event.id}.csv", roster_csv(rows, ctx.t), "text/csv")
    return Reply(cards=[card])


#: The roster's columns and values, in the reader's language (a spreadsheet shows them as is).
_COLUMNS = (
    N_("name"),
    N_("accounts"),
    N_("status"),
    N_("guests"),
    N_("signed_up_utc"),
    N_("attended"),
)
_STATUSES = {
    "confirmed": N_("confirmed"),
    "waitlisted": N_("waitlisted"),
    "offered": N_("seat held"),
    "maybe": N_("maybe"),
}
_ATTENDED = {True: N_("yes"), False: N_("no")}


def roster_csv(rows: list[attendance.RosterRow], t: Translator) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([t(column) for column in _COLUMNS])
    for row in rows:
        writer.writerow(
            [
                _safe(row.name),
                row.accounts,
                t(_STATUSES[row.status]) if row.status in _STATUSES else row.status,
                row.guests,
                row.signed_up_at.strftime("%Y-%m-%d %H:%M"),
                t(_ATTENDED[row.attended]) if row.attended is not None else "",
            ]
        )
    return out.getvalue().encode("utf-8-sig")  # a BOM, so spreadsheet apps read UTF-8


def _safe(cell: str) -> str:
    """A name that starts like a formula is not run by the spreadsheet (CSV injection)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell

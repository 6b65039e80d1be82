"""Calendars: "📅 Add to calendar" on every activity card, and /calendar, a personal feed."""

from __future__ import annotations

from core import calendar
from core.actions import Act, Action
from core.cards import Attachment, Card, Reply, code, note, plain
from core.chat.registry import Context, command, on_action
from core.i18n import N_
from core.services import events

ICS = "text/calendar"


@on_action(Act.CALENDAR)
async def calendar_action(ctx: Context, action: Action) -> Reply:
    """The activity as an .ics file, for anyone who may see it (private groups: members)."""
    async with ctx.uow(readonly=True) as uow:
        view = await events.get_event(uow, ctx.me, action.id)
        data = await calendar.activity_file(uow, view.event, ctx.clock.now())
    text = ctx.t("{title}: open the file to add it to your calendar.", title=view.event.title)
    card = note(text)
    card.file = Attachment(calendar.file_name(view.event), data, ICS)
    return Reply(cards=[card])  # the file is the answer (and says where it went, if elsewhere)


@command(
    "calendar",
    usage=N_("/calendar [reset]"),
    help=N_("A private calendar link with everything you signed up for"),
    section="events",
)
async def calendar_command(ctx: Context, args: str) -> Reply:
    base = ctx.services.settings.public_url
    if not base or ctx.services.settings.web_port is None:
        return Reply(
            cards=[
                note(
                    ctx.t(
                        "Calendar links are not switched on here (the operator sets "
                        "WEB_PORT and PUBLIC_URL)."
                    )
                )
            ]
        )
    reset = args.strip().lower() == "reset"
    async with ctx.uow() as uow:
        token = await calendar.feed_token(uow, ctx.me, reset=reset)
    url = f"{base.rstrip('/')}/calendar/{token}.ics"
    card = Card()
    if reset:
        card.add(ctx.t("Your old calendar link no longer works. The new one:"))
    else:
        card.add(ctx.t("Subscribe to this link in your calendar app:"))
    card.add(code(url))
    card.add(
        plain(
            ctx.t(
                "It lists what you signed up for and updates itself. Keep it to yourself; "
                "/calendar reset makes a new one."
            )
        )
    )
    return Reply(cards=[card])

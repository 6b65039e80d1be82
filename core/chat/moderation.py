"""Reports and what is done about them: the Report buttons, /reports, and its actions.

A report goes to the operators (OPERATOR_IDS) and, when it is about a post, to the admins of
the post's group; each of them may dismiss it or delete the post, and the group's admins may ban
its author from the group. The reporter is never named to the reported person, who is not told
of the report at all (core.services.reports). /reports is answered in private chats only.
"""

from __future__ import annotations

from core.actions import Act, Action, act
from core.cards import Button, Card, Reply, bold, italic, note, plain, snippet
from core.chat.registry import REDRAWN_WHEN_REFUSED, Context, command, on_action, only_in_private
from core.i18n import N_, Translator
from core.models import ReportStatus
from core.services import reports

SNIPPET = 160


@on_action(Act.REPORT_POST)
async def report_post_action(ctx: Context, action: Action) -> Reply:
    async with ctx.uow() as uow:
        operators = ctx.services.settings.operators
        await reports.report_post(uow, ctx.clock, operators, ctx.me, action.id)
    text = ctx.t("Reported to the group's admins. Thank you.")
    return Reply(toast=text, cards=[note(text)])  # they hear of it from core.report_news


def _report_card(view: reports.ReportView, t: Translator) -> Card:
    """An open report with the buttons the viewer may use; a closed one says who closed it."""
    report = view.report
    card = Card().add(
        bold(f"#{report.id} "),
        plain(t("{reporter} reported {reported}", reporter=view.reporter, reported=view.reported)),
        plain(f" · {view.group.name}" if view.group else ""),
    )
    if view.post is not None:
        body = report.reported_text or view.post.body  # what was reported, not a later edit
        card.add(italic(snippet(body, SNIPPET)))
        if report.reported_text is not None and view.post.body != report.reported_text:
            card.add(plain(t("✏️ Its author edited it after it was reported.")))
    if report.reason:
        card.add(plain(t("Why: {reason}", reason=report.reason)))
    if report.status == ReportStatus.DISMISSED:
        return card.add(plain(t("✔ Dismissed by {name}.", name=view.handled_by)))
    if report.status == ReportStatus.ACTED:
        return card.add(plain(t("Closed by {name}.", name=view.handled_by)))
    buttons = [Button(t("✔ Dismiss"), act(Act.DISMISS_REPORT, report.id))]  # type: ignore[arg-type]
    if view.post is not None and not view.post.deleted:  # whoever sees it may delete it
        buttons.append(Button(t("🗑 Delete post"), act(Act.DELETE_REPORTED, report.id)))  # type: ignore[arg-type]
    if view.can_ban:
        buttons.append(Button(t("⛔ Ban from group"), act(Act.BAN_REPORTED, report.id)))  # type: ignore[arg-type]
    return card.row(*buttons)


async def _card_now(ctx: Context, action: Action) -> Card:
    """The report's card as it stands, for a tap that was refused (REDRAWN_WHEN_REFUSED): a
    copy of /reports still offering buttons on a report another admin closed meanwhile."""
    async with ctx.uow(readonly=True) as uow:
        operators = ctx.services.settings.operators
        view = await reports.report_view(uow, operators, ctx.me, action.id)
    return _report_card(view, ctx.t)


REDRAWN_WHEN_REFUSED.update(
    dict.fromkeys((Act.DISMISS_REPORT, Act.DELETE_REPORTED, Act.BAN_REPORTED), _card_now)
)


@command(
    "reports",
    usage=N_("/reports"),
    help=N_("Open reports you can act on (group admins, operators)"),
    section="admin",
)
async def reports_command(ctx: Context, args: str) -> Reply:
    only_in_private(ctx, "reports")  # who reported whom, and the buttons to act on it
    async with ctx.uow(readonly=True) as uow:
        found = await reports.open_reports(uow, ctx.services.settings.operators, ctx.me)
    if not found:
        return Reply(cards=[note(ctx.t("No open reports you can act on."))])
    head = note(ctx.t("Open reports, oldest first:"))
    return Reply(cards=[head, *(_report_card(view, ctx.t) for view in found)])


def _closed(ctx: Context, done: str, others: list[int]) -> Reply:
    """What was done, and which other reports of the same post it closed too."""
    if others:
        ids = ", ".join(f"#{other}" for other in others)
        done += "\n" + ctx.t("Also closed, about the same post: {reports}.", reports=ids)
    return Reply(toast=done, cards=[note(done)], edit=True)


@on_action(Act.DISMISS_REPORT)
async def dismiss_action(ctx: Context, action: Action) -> Reply:
    async with ctx.uow() as uow:
        others = await reports.dismiss(uow, ctx.services.settings.operators, ctx.me, action.id)
    return _closed(ctx, ctx.t("Report #{id} dismissed.", id=action.id), others)


@on_action(Act.DELETE_REPORTED)
async def delete_reported_action(ctx: Context, action: Action) -> Reply:
    async with ctx.uow() as uow:
        operators = ctx.services.settings.operators
        others = await reports.delete_reported_post(uow, operators, ctx.me, action.id)
    return _closed(ctx, ctx.t("Post deleted; report #{id} closed.", id=action.id), others)


@on_action(Act.BAN_REPORTED)
async def ban_reported_action(ctx: Context, action: Action) -> Reply:
    async with ctx.uow() as uow:
        others = await reports.ban_reported(
            uow, ctx.clock, ctx.services.settings.operators, ctx.me, action.id
        )
    # they hear of the ban, and whoever it gave a seat of that, from core.notices
    return _closed(ctx, ctx.t("Banned from the group; report #{id} closed.", id=action.id), others)

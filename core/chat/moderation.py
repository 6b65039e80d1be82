"""Reports and what is done about them: the Report buttons, /reports, and its actions.

A report goes to the operators (OPERATOR_IDS) and, when it is about a post, to the admins of
the post's group; each of them may dismiss it, delete the post or ban its author from the group
(where they have that right). The reporter is never named to the reported person.
"""

from __future__ import annotations

from core.actions import Act, Action, act
from core.cards import Button, Card, Reply, bold, italic, note, plain, snippet
from core.chat.registry import Context, command, on_action
from core.i18n import N_, Translator
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
    buttons = [Button(t("✔ Dismiss"), act(Act.DISMISS_REPORT, report.id))]  # type: ignore[arg-type]
    if view.post is not None and view.can_ban and not view.post.deleted:
        buttons.append(Button(t("🗑 Delete post"), act(Act.DELETE_REPORTED, report.id)))  # type: ignore[arg-type]
    if view.can_ban:
        buttons.append(Button(t("⛔ Ban from group"), act(Act.BAN_REPORTED, report.id)))  # type: ignore[arg-type]
    return card.row(*buttons)


@command(
    "reports",
    usage=N_("/reports"),
    help=N_("Open reports you can act on (group admins, operators)"),
    section="admin",
)
async def reports_command(ctx: Context, args: str) -> Reply:
    async with ctx.uow(readonly=True) as uow:
        found = await reports.open_reports(uow, ctx.services.settings.operators, ctx.me)
    if not found:
        return Reply(cards=[note(ctx.t("No open reports you can act on."))])
    head = note(ctx.t("Open reports, oldest first:"))
    return Reply(cards=[head, *(_report_card(view, ctx.t) for view in found)])


@on_action(Act.DISMISS_REPORT)
async def dismiss_action(ctx: Context, action: Action) -> Reply:
    async with ctx.uow() as uow:
        await reports.dismiss(uow, ctx.services.settings.operators, ctx.me, action.id)
    text = ctx.t("Report #{id} dismissed.", id=action.id)
    return Reply(toast=text, cards=[note(text)], edit=True)


@on_action(Act.DELETE_REPORTED)
async def delete_reported_action(ctx: Context, action: Action) -> Reply:
    async with ctx.uow() as uow:
        await reports.delete_reported_post(uow, ctx.services.settings.operators, ctx.me, action.id)
    text = ctx.t("Post deleted; report #{id} closed.", id=action.id)
    return Reply(toast=text, cards=[note(text)], edit=True)


@on_action(Act.BAN_REPORTED)
async def ban_reported_action(ctx: Context, action: Action) -> Reply:
    async with ctx.uow() as uow:
        await reports.ban_reported(
            uow, ctx.clock, ctx.services.settings.operators, ctx.me, action.id
        )
    text = ctx.t("Banned from the group; report #{id} closed.", id=action.id)
    # they hear of the ban, and whoever it gave a seat of that, from core.notices
    return Reply(toast=text, cards=[note(text)], edit=True)

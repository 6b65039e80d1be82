"""Reports: a person (from the companions list) or a post (from its card) flagged as abusive.

Every report reaches the operators (OPERATOR_IDS); a report about a post also reaches the admins
of the post's group. Either may dismiss it or delete the post (the operators are the community's
moderators, members of the group or not); banning its author from the group is for the group's
admins. Deleting or banning closes every open report of the post; dismissing, those of the same
text (a report of a later edit is still to be looked at).

The person reported never hears of a report, never sees it in /reports and cannot act on it,
admin or operator though they may be: it is for the others (the operators, the owner).

A person reports a given post or person once while it is open, never themselves. Those who can
act hear of the report durably: the report commits with a job for each of them, told by the
notice worker (core.report_news) while the report is still open.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import select

from core import permissions, work
from core.clock import Clock
from core.errors import conflict, forbidden, invalid, not_found
from core.i18n import N_
from core.models import (
    Group,
    Identity,
    Membership,
    Person,
    Post,
    Report,
    ReportStatus,
)
from core.services import discovery, events, posts
from core.services.groups import ADMIN, admin_keys, membership_of
from core.uow import UnitOfWork
from core.validation import clean_text, is_id

LISTED = 20  # open reports shown at once, oldest first
REPORTED = "reported"  # the job kind of telling someone who can act of a report ("report:person")
OPERATOR = "operator"  # a "reported" job's payload when it is for an operator, not an admin


@dataclass(frozen=True)
class ReportView:
    report: Report
    reporter: str
    reported: str
    group: Group | None
    post: Post | None
    can_ban: bool  # the viewer may ban the reported person from the group
    handled_by: str | None  # who closed it, once closed


async def is_operator(uow: UnitOfWork, operators: set[tuple[str, str]], person_id: int) -> bool:
    if not operators:
        return False
    rows = await uow.session.exec(
        select(Identity.platform, Identity.external_id).where(Identity.person_id == person_id)
    )
    return any((platform, ident) in operators for platform, ident in rows.all())


async def operator_ids(uow: UnitOfWork, operators: set[tuple[str, str]]) -> list[int]:
    """The people behind OPERATOR_IDS who have used the bot (the others cannot be reached)."""
    if not operators:
        return []
    clauses = [
        sa.and_(Identity.platform == platform, Identity.external_id == ident)
        for platform, ident in operators
    ]
    rows = await uow.session.exec(select(Identity.person_id).where(sa.or_(*clauses)).distinct())
    return list(rows.all())


@functools.cache
def _tell_admins(dialect: str) -> sa.Insert:
    """A "reported" job for each admin of the group but the reporter and the person reported,
    in one statement."""
    admins = admin_keys().where(
        Membership.person_id != sa.bindparam("reporter"),
        Membership.person_id != sa.bindparam("reported"),
    )
    return work.upsert_each(dialect, REPORTED, admins)


async def _tell(uow: UnitOfWork, operators: set[tuple[str, str]], report: Report) -> None:
    """Everyone who can act on the report hears of it, but its reporter and the person reported:
    for a post the admins of its group, and the operators (after them: an operator who is an
    admin too keeps the operator's job, told even if no longer an admin by then)."""
    if report.group_id is not None:
        params = {
            "group_id": report.group_id,
            "prefix": f"{report.id}:",
            "reporter": report.reporter_id,
            "reported": report.reported_id,
        }
        await work.schedule_each(uow, REPORTED, _tell_admins, params)
    for person in await operator_ids(uow, operators):
        if person not in (report.reporter_id, report.reported_id):
            key = f"{report.id}:{person}"
            await work.schedule(uow, REPORTED, key, work.AT_ONCE, payload=OPERATOR)


async def _file(
    uow: UnitOfWork,
    clock: Clock,
    operators: set[tuple[str, str]],
    actor_id: int,
    reported_id: int,
    reason: str,
    post: Post | None,
) -> Report:
    if actor_id == reported_id:
        raise invalid("report_self", N_("You can't report yourself."))
    same = select(Report.id).where(
        Report.reporter_id == actor_id,
        Report.reported_id == reported_id,
        Report.status == ReportStatus.OPEN,
        Report.post_id == post.id if post is not None else Report.post_id.is_(None),  # type: ignore[union-attr]
    )
    if (await uow.session.exec(same)).first() is not None:
        raise conflict("already_reported", N_("You reported that already; it is being looked at."))
    report = Report(
        reporter_id=actor_id,
        reported_id=reported_id,
        reason=clean_text(reason, field="description", min_len=0, max_len=500),
        created_at=clock.now(),
        group_id=post.group_id if post is not None else None,
        post_id=post.id if post is not None else None,
        reported_text=post.body if post is not None else None,
    )
    uow.session.add(report)
    await uow.session.flush()
    await _tell(uow, operators, report)
    return report


async def report_person(
    uow: UnitOfWork,
    clock: Clock,
    operators: set[tuple[str, str]],
    actor_id: int,
    other_id: int,
    reason: str = "",
) -> Report:
    """From the companions list: recorded for the operators; reporting also blocks, so the
    person is not shown again."""
    if not is_id(other_id) or await uow.session.get(Person, other_id) is None:
        raise not_found("person", name="?")
    report = await _file(uow, clock, operators, actor_id, other_id, reason, None)
    await discovery.block(uow, actor_id, other_id)  # commits
    return report


async def report_post(
    uow: UnitOfWork,
    clock: Clock,
    operators: set[tuple[str, str]],
    actor_id: int,
    post_id: int,
    reason: str = "",
) -> Report:
    """From a post's card: for the group's admins and the operators."""
    post, _group, _membership = await posts.load_post(uow, post_id, actor_id)
    report = await _file(uow, clock, operators, actor_id, post.author_id, reason, post)
    await uow.commit()
    return report


async def open_reports(
    uow: UnitOfWork, operators: set[tuple[str, str]], viewer_id: int
) -> list[ReportView]:
    """What the viewer may act on: every open report for an operator; for a group admin, the
    open reports about their groups' posts; never a report about the viewer."""
    query = select(Report).where(
        Report.status == ReportStatus.OPEN, Report.reported_id != viewer_id
    )
    if not await is_operator(uow, operators, viewer_id):
        admin_of = select(Membership.group_id).where(Membership.person_id == viewer_id, ADMIN)
        query = query.where(Report.group_id.in_(admin_of))  # type: ignore[union-attr]
    reports = (await uow.session.exec(query.order_by(Report.id).limit(LISTED))).all()
    return [await _view(uow, report, viewer_id) for report in reports]


async def report_view(
    uow: UnitOfWork, operators: set[tuple[str, str]], viewer_id: int, report_id: int
) -> ReportView:
    """The report as it stands, open or closed, for someone who may act on it: a refused tap on
    its card (closed by another admin meanwhile) redraws the card as it is now."""
    return await _view(uow, await _theirs(uow, operators, viewer_id, report_id), viewer_id)


async def _view(uow: UnitOfWork, report: Report, viewer_id: int) -> ReportView:
    reporter = await uow.session.get(Person, report.reporter_id)
    reported = await uow.session.get(Person, report.reported_id)
    handler = await uow.session.get(Person, report.handled_by) if report.handled_by else None
    group = await uow.session.get(Group, report.group_id) if report.group_id else None
    post = await uow.session.get(Post, report.post_id) if report.post_id else None
    can_ban = (
        group is not None
        and permissions.is_admin(await membership_of(uow, group.id, viewer_id))  # type: ignore[arg-type]
        and not permissions.is_banned(await membership_of(uow, group.id, report.reported_id))  # type: ignore[arg-type]
    )
    return ReportView(
        report,
        reporter.display_name,  # type: ignore[union-attr]
        reported.display_name,  # type: ignore[union-attr]
        group,
        post,
        can_ban,
        handler.display_name if handler else None,
    )


async def _theirs(
    uow: UnitOfWork, operators: set[tuple[str, str]], viewer_id: int, report_id: int
) -> Report:
    """The report, open or closed, if the viewer may act on it: an operator, or an admin of
    its group. The person reported is answered as if there were no such report: not told of
    it, whatever their rights."""
    report = await uow.session.get(Report, report_id) if is_id(report_id) else None
    if report is None or report.reported_id == viewer_id:
        raise not_found("report", id=report_id)
    if await is_operator(uow, operators, viewer_id):
        return report
    if report.group_id is None:
        raise forbidden(
            "not_moderator", N_("Only the community's operators can handle that report.")
        )
    if permissions.is_admin(await membership_of(uow, report.group_id, viewer_id)):
        return report
    raise forbidden(
        "not_moderator",
        N_("Only the group's admins or the community's operators can handle that report."),
    )


async def _open(
    uow: UnitOfWork, operators: set[tuple[str, str]], viewer_id: int, report_id: int
) -> Report:
    report = await _theirs(uow, operators, viewer_id, report_id)
    if report.status != ReportStatus.OPEN:
        raise not_found("report", id=report_id)
    return report


async def _close(
    uow: UnitOfWork, report: Report, status: ReportStatus, viewer_id: int, *, same_text: bool
) -> list[int]:
    """Close the report and every other open report of its post: the post deleted or its author
    banned settles each reporter's report. `same_text`: only those that reported the text this
    one did (a dismissal judged that text; a report of a later edit is still to be looked at).
    Returns the others' ids, oldest first; the caller commits."""
    closing = [report]
    if report.post_id is not None:
        others = select(Report).where(
            Report.post_id == report.post_id,
            Report.status == ReportStatus.OPEN,
            Report.id != report.id,
        )
        if same_text:
            others = others.where(Report.reported_text == report.reported_text)
        closing += (await uow.session.exec(others.order_by(Report.id))).all()
    for each in closing:
        each.status, each.handled_by = status, viewer_id
        uow.session.add(each)
    return [each.id for each in closing[1:]]  # type: ignore[misc]


async def dismiss(
    uow: UnitOfWork, operators: set[tuple[str, str]], viewer_id: int, report_id: int
) -> list[int]:
    """Nothing to do: closes the report, and the other open reports of the same post's same
    text (their ids are returned)."""
    report = await _open(uow, operators, viewer_id, report_id)
    others = await _close(uow, report, ReportStatus.DISMISSED, viewer_id, same_text=True)
    await uow.commit()
    return others


async def delete_reported_post(
    uow: UnitOfWork, operators: set[tuple[str, str]], viewer_id: int, report_id: int
) -> list[int]:
    """The group's admins or an operator (the community's moderators, in the group or not)
    delete the post, as its Delete button would; every open report of it is closed (the others'
    ids are returned)."""
    report = await _open(uow, operators, viewer_id, report_id)
    if report.post_id is None:
        raise invalid("report_has_no_post", N_("That report is not about a post."))
    post = await posts.live_post(uow, report.post_id, lock=True)
    await posts.remove_post(uow, post, viewer_id)
    others = await _close(uow, report, ReportStatus.ACTED, viewer_id, same_text=False)
    await uow.commit()
    return others


async def ban_reported(
    uow: UnitOfWork, clock: Clock, operators: set[tuple[str, str]], viewer_id: int, report_id: int
) -> list[int]:
    """The group's admins ban the reported person from the group (seats freed, as /ban); every
    open report of the post is closed (the others' ids are returned)."""
    report = await _open(uow, operators, viewer_id, report_id)
    if report.group_id is None:
        raise invalid("report_has_no_group", N_("That report is not about a group."))
    others = await _close(uow, report, ReportStatus.ACTED, viewer_id, same_text=False)
    await events.ban_and_release(
        uow, clock, viewer_id, f"#{report.group_id}", f"#{report.reported_id}"
    )  # commits, with the reports
    return others

"""Telling the people who can act on a report that it was made: the operators, and for a post
the admins of its group, but never the reporter nor the person reported.

Filing a report schedules a "reported" job (core.work; key "report:person") for each of them
in the report's transaction (`core.services.reports._tell`), so the report cannot be lost
between the commit and the send, as it could while the notices lived in the committing
process's memory. The notice worker (core.notices) tells them, each once.

Nobody is told of a report already dismissed or acted on meanwhile (someone else handled it),
nor is an admin who is no longer one.
"""

from __future__ import annotations

from datetime import datetime

from core.cards import Card, Notice, italic, note
from core.i18n import Translator
from core.models import Job, Report, ReportStatus
from core.permissions import is_admin
from core.services.groups import membership_of
from core.services.reports import OPERATOR
from core.uow import UnitOfWork


def report_card(report_id: int, about_post: bool, t: Translator) -> Card:
    """A new report as the people who can act on it hear of it, with a way to /reports."""
    what = (
        t("A post was reported (report #{id}).", id=report_id)
        if about_post
        else t("A person was reported (report #{id}).", id=report_id)
    )
    return note(what).add(italic(t("See it with /reports")))


async def told_of_report(uow: UnitOfWork, job: Job, now: datetime) -> Notice | None:
    """The notice for a "reported" job (key "report:person"), if the report is still open."""
    report_id, person_id = (int(part) for part in job.key.split(":"))
    report = await uow.session.get(Report, report_id)
    if report is None or report.status != ReportStatus.OPEN:
        return None
    if job.payload != OPERATOR and not is_admin(
        await membership_of(uow, report.group_id, person_id)  # type: ignore[arg-type]
    ):
        return None  # no longer an admin of the group: the report is not theirs to act on
    about_post = report.post_id is not None
    return Notice(person_id, lambda t: report_card(report_id, about_post, t))

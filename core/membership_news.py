"""Telling people what became of a membership: a join request to a private group's admins, and
to the person the decision, a ban, its lifting, or a group handed to them.

The service that makes the change schedules the job in the same transaction
(`core.services.groups`: "asked" for each admin, "membership" for the person and the news),
so it cannot be lost between the commit and the send; the notice worker (core.notices) tells
them. A request lost that way left its asker waiting on admins who never
heard of it.

Each notice is sent only while it is still true when the worker runs: an admin is not asked
about a request already decided, or once they are no longer an admin; a person is not told of
an approval, a ban or an ownership that was undone meanwhile (a ban lifted before the ban was
told is told as lifted only).
"""

from __future__ import annotations

from datetime import datetime

from core import permissions
from core.actions import Act, act
from core.cards import Button, Card, Notice, note
from core.i18n import N_, Translator
from core.models import Group, Job, Membership, MembershipStatus, Person, Role
from core.services.groups import APPROVED, BANNED, DECLINED, OWNER, UNBANNED, membership_of
from core.uow import UnitOfWork

#: What each piece of membership news says, and whether it still holds for a membership.
_NEWS = {
    APPROVED: N_("You're in: your request to join {group} was approved."),
    DECLINED: N_("Your request to join {group} was declined."),
    BANNED: N_(
        "You were banned from {group} by its admins. Any places you held in its coming "
        "activities were given up."
    ),
    UNBANNED: N_("You may join {group} again: your ban was lifted."),
    OWNER: N_("You're now the owner of {group}."),
}


def _still_true(news: str, membership: Membership | None) -> bool:
    status = membership.status if membership is not None else None
    if news == UNBANNED:
        return status != MembershipStatus.BANNED
    expected = {
        APPROVED: MembershipStatus.ACTIVE,
        DECLINED: MembershipStatus.DECLINED,
        BANNED: MembershipStatus.BANNED,
        OWNER: MembershipStatus.ACTIVE,
    }
    if status != expected.get(news):
        return False
    return news != OWNER or membership.role == Role.OWNER  # type: ignore[union-attr]


def request_card(group: Group, requester: Person, t: Translator) -> Card:
    """A join request as its admins see it, with the buttons to decide it."""
    name = requester.display_name
    return note(t("{name} asks to join {group}.", name=name, group=group.name)).row(
        Button(t("✅ Approve {name}", name=name[:40]), act(Act.APPROVE, group.id, requester.id)),  # type: ignore[arg-type]
        Button(t("✖ Decline"), act(Act.REJECT, group.id, requester.id)),  # type: ignore[arg-type]
    )


async def told_of_request(uow: UnitOfWork, job: Job, now: datetime) -> Notice | None:
    """The notice for an "asked" job (key "group:requester:admin"), if the request still waits
    and the admin still decides requests."""
    group_id, requester_id, admin_id = (int(part) for part in job.key.split(":"))
    asking = await membership_of(uow, group_id, requester_id)
    admin = await membership_of(uow, group_id, admin_id)
    if asking is None or asking.status != MembershipStatus.PENDING:
        return None
    if not permissions.is_admin(admin):
        return None
    group = await uow.session.get(Group, group_id)
    requester = await uow.session.get(Person, requester_id)
    if group is None or requester is None:
        return None
    return Notice(admin_id, lambda t: request_card(group, requester, t))


async def told_of_membership(uow: UnitOfWork, job: Job, now: datetime) -> Notice | None:
    """The notice for a "membership" job (key "group:person:news"), if the news still holds."""
    group_part, person_part, news = job.key.split(":")
    group_id, person_id = int(group_part), int(person_part)
    if news not in _NEWS or not _still_true(news, await membership_of(uow, group_id, person_id)):
        return None
    group = await uow.session.get(Group, group_id)
    if group is None:
        return None
    return Notice(person_id, lambda t: note(t(_NEWS[news], group=group.name)))

"""Who may do what in a group. Every permission rule of the product lives in this module."""

from __future__ import annotations

from core.errors import DomainError, forbidden
from core.i18n import N_
from core.models import Event, Group, Membership, MembershipStatus, Role, Visibility


def is_active(membership: Membership | None) -> bool:
    return membership is not None and membership.status == MembershipStatus.ACTIVE


def is_admin(membership: Membership | None) -> bool:
    return is_active(membership) and membership.role in (Role.OWNER, Role.ADMIN)  # type: ignore[union-attr]


def is_banned(membership: Membership | None) -> bool:
    return membership is not None and membership.status == MembershipStatus.BANNED


def can_see_content(group: Group, membership: Membership | None) -> bool:
    """Posts, activities and rosters of a private group are for its members only."""
    return sees_content(group.visibility, membership.status if membership else None)


def sees_content(visibility: str, status: str | None) -> bool:
    """can_see_content from a group's visibility and the viewer's membership status (None: not
    a member), for checks over many groups at once."""
    if status == MembershipStatus.BANNED:
        return False
    return visibility == Visibility.PUBLIC or status == MembershipStatus.ACTIVE


def require_content_access(group: Group, membership: Membership | None) -> None:
    if not can_see_content(group, membership):
        if is_banned(membership):
            raise forbidden("banned", N_("You are banned from {group}."), group=group.name)
        raise forbidden(
            "private_group",
            N_("{group} is a private group: only its members can see and do that."),
            group=group.name,
        )


def require_member(group: Group, membership: Membership | None) -> None:
    require_content_access(group, membership)
    if not is_active(membership):
        raise forbidden(
            "not_member",
            N_("Join {group} first (/join {slug})."),
            group=group.name,
            slug=group.handle,
        )


def require_admin(group: Group, membership: Membership | None) -> None:
    if not is_admin(membership):
        raise forbidden("not_admin", N_("Only admins of {group} can do that."), group=group.name)


def can_create_event(group: Group, membership: Membership | None) -> bool:
    return is_admin(membership) or (group.members_can_create_events and is_active(membership))


def require_event_creator(group: Group, membership: Membership | None) -> None:
    require_member(group, membership)
    if not can_create_event(group, membership):
        raise forbidden(
            "not_organizer",
            N_("Only admins of {group} can create activities there."),
            group=group.name,
        )


def can_manage_event(event: Event, membership: Membership | None, person_id: int) -> bool:
    """The organizer who created it, or an admin of its group."""
    return is_admin(membership) or (event.creator_id == person_id and is_active(membership))


def not_event_manager() -> DomainError:
    return forbidden(
        "not_event_manager", N_("Only the organizer of this activity or a group admin can do that.")
    )


def require_event_manager(event: Event, membership: Membership | None, person_id: int) -> None:
    if can_manage_event(event, membership, person_id):
        return
    if event.creator_id == person_id and not is_banned(membership):  # left the group
        raise forbidden(
            "organizer_left_group",
            N_(
                "You're no longer in this activity's group, so you can't change it: join the "
                "group again, or ask its admins."
            ),
        )
    raise not_event_manager()


def can_moderate_post(author_id: int, membership: Membership | None, person_id: int) -> bool:
    return author_id == person_id or is_admin(membership)


def require_can_manage_member(actor: Membership | None, target: Membership | None) -> None:
    """Admins manage members; only the owner manages admins; nobody manages the owner."""
    if not is_admin(actor):
        raise forbidden("not_admin", N_("Only group admins can do that."))
    if target is not None and target.role == Role.OWNER:
        raise forbidden("target_is_owner", N_("Nobody can do that to the group's owner."))
    if target is not None and target.role == Role.ADMIN and actor.role != Role.OWNER:  # type: ignore[union-attr]
        raise forbidden("target_is_admin", N_("Only the owner can do that to an admin."))

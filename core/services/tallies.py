"""Stored counts, kept in step with the rows they count: an activity's seats taken, its waitlist
and its sign-up heat, and a group's active members.

Every card shows the counts, /groups sorts by members, /nearby ranks a few hundred activities by
them and /recommend picks popular groups by them; counting rows on each read cost more than
everything else those commands do (bench/discovery.py, docs/benchmarks.md). So every status
change of a registration or a membership goes through this module, in the transaction that
makes it, and the counts move with it. `recount` rebuilds them from the rows (the migration that
added them runs it).

Heat is sign-ups with a fading weight: a sign-up counts 1 now, 1/2 a day later, 1/4 after two
days; giving the seat up takes back what that sign-up still weighs. Stored as a value at
`heat_at`, it is faded to the reader's "now" on read.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.models import Event, Group, Membership, MembershipStatus, Registration
from core.models import RegistrationStatus as Status
from core.uow import UnitOfWork

HEAT_HALF_LIFE = timedelta(days=1)
_HALF_LIFE_S = HEAT_HALF_LIFE.total_seconds()


def fade(value: float, elapsed: float) -> float:
    """`value` after `elapsed` seconds (never grown: a negative `elapsed` is none)."""
    return value * 0.5 ** (max(0.0, elapsed) / _HALF_LIFE_S) if value else 0.0


def faded(value: float, since: datetime | None, now: datetime) -> float:
    """`value` as of `since`, faded to `now`."""
    return 0.0 if since is None else fade(value, (now - since).total_seconds())


def heat(event: Event, now: datetime) -> float:
    """Sign-up speed: recent sign-ups, each weighing less the older it is."""
    return faded(event.heat, event.heat_at, now)


def _previous(row: Registration | Membership) -> str | None:
    """The status the database has for the row; None for a row not stored yet."""
    return row.status if sa.inspect(row).persistent else None


def _count(event: Event, status: str | None, party: int) -> None:
    """Add a party (1 + guests; negative to take it away) to the count of `status`."""
    if status in (Status.CONFIRMED, Status.OFFERED):  # an offered seat is held: taken
        event.going += party
    elif status == Status.WAITLISTED:
        event.waiting += party
    elif status == Status.MAYBE:
        event.interested += 1 if party > 0 else -1


def move_registration(event: Event, registration: Registration, status: str, now: datetime) -> None:
    """Set a registration's status and move the activity's counts with it: seats taken and
    waited for count whole parties (the person and their guests), maybes count people. The
    caller holds the activity's lock, so read-modify-write of the counts is safe."""
    previous = _previous(registration)
    if previous == status:
        return
    party = 1 + registration.guests
    _count(event, previous, -party)
    _count(event, status, party)
    if previous == Status.CONFIRMED:
        _add_heat(event, -faded(1.0, registration.updated_at, now), now)
    if status == Status.CONFIRMED:
        _add_heat(event, 1.0, now)
    registration.status, registration.updated_at = status, now


def set_guests(event: Event, registration: Registration, guests: int) -> None:
    """Change how many guests someone brings; their seats (or the seats they wait for) move
    with it. The caller holds the activity's lock and has checked that the seats are free."""
    status = _previous(registration)
    _count(event, status, -(1 + registration.guests))
    registration.guests = guests
    _count(event, status, 1 + guests)


def _add_heat(event: Event, amount: float, now: datetime) -> None:
    event.heat, event.heat_at = max(0.0, heat(event, now) + amount), now


async def move_membership(
    uow: UnitOfWork, membership: Membership, status: str, role: str | None = None
) -> None:
    """Set a membership's status (and role) and the group's member count with it. The count is
    changed by one UPDATE ... SET members = members + d, so concurrent joins need no lock."""
    previous = _previous(membership)
    membership.status = status
    if role is not None:
        membership.role = role
    uow.session.add(membership)
    delta = (status == MembershipStatus.ACTIVE) - (previous == MembershipStatus.ACTIVE)
    if delta:
        await uow.session.exec(
            sa.update(Group)
            .where(Group.id == membership.group_id)  # type: ignore[arg-type]
            .values(members=Group.members + delta)
        )


def recount(connection: Connection, now: datetime | None = None) -> None:
    """Rebuild every stored count from the rows (for a migration, or data loaded in bulk)."""
    now = now or datetime.now(UTC)
    members = (
        sa.select(sa.func.count())
        .where(Membership.group_id == Group.id, Membership.status == MembershipStatus.ACTIVE)
        .scalar_subquery()
    )
    connection.execute(sa.update(Group).values(members=members))

    def roster(status: str, what: sa.ColumnElement) -> sa.ScalarSelect:
        return (
            sa.select(sa.func.coalesce(sa.func.sum(what), 0))
            .where(Registration.event_id == Event.id, Registration.status == status)
            .scalar_subquery()
        )

    party = 1 + Registration.guests
    seated = sa.or_(Registration.status == Status.CONFIRMED, Registration.status == Status.OFFERED)

    def seats(what: sa.ColumnElement) -> sa.ScalarSelect:
        return (
            sa.select(sa.func.coalesce(sa.func.sum(what), 0))
            .where(Registration.event_id == Event.id, seated)
            .scalar_subquery()
        )

    connection.execute(
        sa.update(Event).values(
            going=seats(party),
            waiting=roster(Status.WAITLISTED, party),
            interested=roster(Status.MAYBE, sa.literal(1)),
            heat=0,
            heat_at=None,
        )
    )
    # heat only matters while sign-ups fade within days: recent confirmations are enough
    since = now - 30 * HEAT_HALF_LIFE
    heats: dict[int, float] = defaultdict(float)
    for event_id, updated_at in connection.execute(
        sa.select(Registration.event_id, Registration.updated_at).where(
            Registration.status == Status.CONFIRMED, Registration.updated_at >= since
        )
    ):
        heats[event_id] += faded(1.0, updated_at, now)
    if heats:
        connection.execute(
            sa.update(Event).where(Event.id == sa.bindparam("event_id")),
            [{"event_id": k, "heat": v, "heat_at": now} for k, v in heats.items()],
        )

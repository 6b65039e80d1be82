"""Which account reaches a person: one person may have accounts on several platforms.

A notice or a reminder goes to one account, not one per account: the person's preferred
platform (`/settings platform`), else the platform they used last, else their oldest account.
When that fails (never started the bot, DMs closed, blocked) the next account is tried; the
callers fall back to a mention in a home chat when none works.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import select

from core.models import Identity, Person
from core.uow import UnitOfWork


def in_order(person: Person, identities: Iterable[Identity]) -> list[Identity]:
    """The person's accounts, the one to try first first."""
    first = person.preferred_platform or person.last_platform

    def rank(identity: Identity) -> tuple[int, int]:
        return (0 if identity.platform == first else 1, identity.id or 0)

    return sorted(identities, key=rank)


async def accounts(
    uow: UnitOfWork, people: list[Person], platforms: Iterable[str]
) -> dict[int, list[Identity]]:
    """Each person's accounts on these platforms, in the order to try them: one query."""
    ids = [p.id for p in people]
    platforms = list(platforms)
    found: dict[int, list[Identity]] = {p.id: [] for p in people}  # type: ignore[misc]
    if ids and platforms:
        rows = await uow.session.exec(
            select(Identity).where(
                Identity.person_id.in_(ids),  # type: ignore[attr-defined]
                Identity.platform.in_(platforms),  # type: ignore[attr-defined]
            )
        )
        for identity in rows.all():
            found[identity.person_id].append(identity)
    return {p.id: in_order(p, found[p.id]) for p in people}  # type: ignore[index,misc]

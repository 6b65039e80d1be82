"""The ledger of incoming platform updates already applied, so a re-delivery changes nothing.

Telegram re-sends updates it has not seen confirmed (after a crash, or to another process).
The claim of an update id commits in the same transaction as the first change the update
makes (`Claim`, a rider of core.uow): a crash before it loses nothing (the re-delivery is
applied), a re-delivery after it changes nothing (its commit fails on the ledger's key and the
update is dropped). An update that changes nothing (/help) is claimed after its handler, on its
own, together with other such updates of the moment (`claim_all`, through a core.batch.Batch):
a re-delivery in between may repeat a reply, never a change.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from core.clock import Clock
from core.db import on_conflict_insert
from core.models import ProcessedUpdate
from core.uow import UnitOfWork

KEEP = timedelta(days=2)  # Telegram keeps undelivered updates for 24 hours


class AlreadyApplied(Exception):
    """This update was applied before (by this process or another): drop it, say nothing."""


@dataclass
class Claim:
    platform: str
    update_id: int
    received_at: datetime
    done: bool = False

    @property
    def row(self) -> dict[str, object]:
        """The ledger's row for this update."""
        return {
            "platform": self.platform,
            "update_id": self.update_id,
            "received_at": self.received_at,
        }

    async def write(self, uow: UnitOfWork) -> None:
        connection = await uow.session.connection()
        try:
            await connection.execute(_INSERT, self.row)
        except IntegrityError:
            raise AlreadyApplied(f"{self.platform} update {self.update_id}") from None


# one row per update, the hottest insert there is: a plain INSERT, not an ORM object's flush
_INSERT = sa.insert(ProcessedUpdate.__table__)  # type: ignore[attr-defined]


@functools.cache
def _insert_new(dialect: str) -> sa.Insert:
    table = ProcessedUpdate.__table__  # type: ignore[attr-defined]
    return on_conflict_insert(dialect, table).on_conflict_do_nothing()


async def claim_all(uow: UnitOfWork, claims: list[Claim]) -> None:
    """Claim updates that changed nothing, in one statement; ids claimed already (the
    update seen before, by this process or another) are left as they are."""
    connection = await uow.session.connection()
    await connection.execute(_insert_new(connection.dialect.name), [c.row for c in claims])
    await uow.commit()


async def forget_old(uow: UnitOfWork, clock: Clock) -> int:
    result = await uow.session.exec(
        delete(ProcessedUpdate).where(ProcessedUpdate.received_at < clock.now() - KEEP)  # type: ignore[arg-type]
    )
    await uow.commit()
    return result.rowcount

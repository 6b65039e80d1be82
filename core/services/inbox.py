"""The ledger of incoming platform updates already applied, so a re-delivery changes nothing.

Telegram re-sends updates it has not seen confirmed (after a crash, or to another process).
The claim of an update id commits in the same transaction as the first change the update
makes (`Claim`, a rider of core.uow): a crash before it loses nothing (the re-delivery is
applied), a re-delivery after it changes nothing (its commit fails on the ledger's key and the
update is dropped). An update that changes nothing (/help) is claimed after its handler, on its
own: a re-delivery in between may repeat a reply, never a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from core.clock import Clock
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

    async def write(self, uow: UnitOfWork) -> None:
        try:
            await _record(uow, self.platform, self.update_id, self.received_at)
        except IntegrityError:
            raise AlreadyApplied(f"{self.platform} update {self.update_id}") from None


# one row per update, the hottest insert there is: a plain INSERT, not an ORM object's flush
_INSERT = sa.insert(ProcessedUpdate.__table__)  # type: ignore[attr-defined]


async def _record(uow: UnitOfWork, platform: str, update_id: int, received_at: datetime) -> None:
    connection = await uow.session.connection()
    values = {"platform": platform, "update_id": update_id, "received_at": received_at}
    await connection.execute(_INSERT, values)


async def claim(uow: UnitOfWork, clock: Clock, platform: str, update_id: int) -> bool:
    """True the first time an update id is seen; False for a repeat."""
    try:
        await _record(uow, platform, update_id, clock.now())
        await uow.commit()
    except IntegrityError:
        await uow.rollback()
        return False
    return True


async def forget_old(uow: UnitOfWork, clock: Clock) -> int:
    result = await uow.session.exec(
        delete(ProcessedUpdate).where(ProcessedUpdate.received_at < clock.now() - KEEP)  # type: ignore[arg-type]
    )
    await uow.commit()
    return result.rowcount

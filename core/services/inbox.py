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
        uow.session.add(
            ProcessedUpdate(
                platform=self.platform, update_id=self.update_id, received_at=self.received_at
            )
        )
        try:
            await uow.session.flush()
        except IntegrityError:
            raise AlreadyApplied(f"{self.platform} update {self.update_id}") from None


async def claim(uow: UnitOfWork, clock: Clock, platform: str, update_id: int) -> bool:
    """True the first time an update id is seen; False for a repeat."""
    uow.session.add(
        ProcessedUpdate(platform=platform, update_id=update_id, received_at=clock.now())
    )
    try:
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

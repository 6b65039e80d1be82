"""The ledger of incoming platform updates already applied, so a re-delivery changes nothing.

Telegram re-sends updates it has not seen confirmed (after a crash, or to another process);
claiming the update id in the database before handling makes handling at-most-once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from core.clock import Clock
from core.models import ProcessedUpdate
from core.uow import UnitOfWork

KEEP = timedelta(days=2)  # Telegram keeps undelivered updates for 24 hours


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

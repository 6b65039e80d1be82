"""The durable work that keeps recurring activities ahead (core.services.series): one "series"
job per series, due every CHECK_EVERY, done by whichever process is alive (core.work)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core import work
from core.models import Job
from core.services import series

if TYPE_CHECKING:
    from core.chat.registry import Services


class SeriesWorker(work.Worker):
    kind = series.SERIES

    def __init__(self, services: Services, **options) -> None:
        super().__init__(services.db, services.clock, **options)

    async def process(self, rows: list[Job]) -> int:
        for job in rows:
            async with self.db.uow() as uow:
                await series.extend(uow, self.clock, int(job.key), reschedule=False)
            async with self.db.uow() as uow:
                due = self.clock.now() + series.CHECK_EVERY
                await work.defer(uow, job, self.worker, due, None)
        return len(rows)

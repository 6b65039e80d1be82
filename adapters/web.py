"""The bot's own web server (aiohttp), on when WEB_PORT is set: `/healthz` and `/metrics` for
operators, and the routes platforms or features add (a Telegram webhook, calendar feeds).

`/healthz` answers 200 when every check passes and 503 otherwise, with each check's result as
JSON: the database always, Redis when REDIS_URL is set, each running platform as its adapter
registers it (`Services.health`).
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from core import calendar
from core.chat import Services
from core.metrics import REGISTRY

log = logging.getLogger(__name__)
CHECK_TIMEOUT = 3.0  # seconds per check: a hung dependency is unhealthy, not a hung probe


async def _database(services: Services) -> bool:
    async with services.db.uow(readonly=True) as uow:
        await uow.session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return True


def build_app(services: Services) -> web.Application:
    app = web.Application()

    async def healthz(_: web.Request) -> web.Response:
        checks = {"database": lambda: _database(services), **services.health}
        results = {}
        for name, check in checks.items():
            try:
                async with asyncio.timeout(CHECK_TIMEOUT):
                    results[name] = bool(await check())
            except Exception as error:  # any failure is an unhealthy answer, never a 500
                log.warning("health check %s failed: %r", name, error)
                results[name] = False
        healthy = all(results.values())
        return web.json_response({"ok": healthy, "checks": results}, status=200 if healthy else 503)

    async def metrics(_: web.Request) -> web.Response:
        response = web.Response(body=generate_latest(REGISTRY))
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response

    async def calendar_feed(request: web.Request) -> web.Response:
        """A person's feed (/calendar): the secret in the URL is the only key; an unknown or
        reset one is a 404 that says nothing more."""
        async with services.db.uow(readonly=True) as uow:
            body = await calendar.feed(uow, request.match_info["token"], services.clock.now())
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type="text/calendar", charset="utf-8")

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/calendar/{token}.ics", calendar_feed)
    return app


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start serving; the caller cleans the returned runner up."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port, reuse_port=True).start()
    log.info("web server on %s:%s (/healthz, /metrics)", host, port)
    return runner

"""Naming the actor of an update from `Services.actors` (core.services.people.ActorCache): a
person's next message within a moment costs no lookup, and what they change shows on their next
message, through this process at once, through another within the cache's time to live."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from core.chat import Services, handle_text
from core.chat.identity import context_for
from core.chat.registry import Context
from core.clock import FrozenClock
from core.db import Database
from core.services.people import ActorCache
from tests.support import Chat


async def _as(services: Services, who: str, name: str | None = None, platform="test") -> Context:
    """The context an adapter builds for a message from `who` (shown as `name`)."""
    return await context_for(
        services, platform=platform, external_id=who, display_name=name or who.title()
    )


async def _say(services: Services, who: str, text: str, platform="test") -> str:
    reply = await handle_text(await _as(services, who, platform=platform), text)
    await services.settle()
    return reply.text


def _transactions(db: Database) -> list[int]:
    """Counts the transactions begun on `db` from now on."""
    begun = [0]

    @event.listens_for(db.engine.sync_engine, "begin")
    def count(_connection) -> None:  # type: ignore[no-untyped-def]
        begun[0] += 1

    return begun


async def test_a_second_message_within_a_moment_costs_no_lookup(services: Services) -> None:
    await _as(services, "ann")  # a first message: ann is created
    first = await _as(services, "ann")  # looked up
    begun = _transactions(services.db)
    again = await _as(services, "ann")
    assert begun[0] == 0
    assert again.actor == first.actor
    services.clock.advance(services.actors.ttl + timedelta(seconds=1))  # type: ignore[attr-defined]
    assert (await _as(services, "ann")).actor == first.actor
    assert begun[0] == 1  # looked up again once the entry is old


async def test_what_a_person_changes_here_shows_on_their_next_message(services: Services) -> None:
    assert "Getting started" in await _say(services, "ann", "/help")
    await _say(services, "ann", "/settings lang zh")
    assert (await _as(services, "ann")).actor.locale == "zh"
    assert "Getting started" not in await _say(services, "ann", "/help")  # answered in Chinese

    await _say(services, "ann", "/settings tz Europe/Berlin")
    await _say(services, "ann", "/settings name Annie")
    actor = (await _as(services, "ann")).actor
    assert (actor.timezone, actor.display_name) == ("Europe/Berlin", "Annie")


async def test_a_name_changed_on_the_platform_shows_at_once(services: Services) -> None:
    await _as(services, "ann", "Ann")
    assert (await _as(services, "ann", "Ann Lee")).actor.display_name == "Ann Lee"
    assert (await _as(services, "ann", "Ann Lee")).actor.display_name == "Ann Lee"


async def test_a_linked_account_names_the_one_person_at_once(services: Services) -> None:
    chat, discord = Chat(services), Chat(services, platform="discord")
    for platform in ("test", "discord", "test", "discord"):  # created, then looked up and kept
        await _as(services, "ann", platform=platform)
    here = await _as(services, "ann")
    assert here.me != (await _as(services, "ann", platform="discord")).me
    reply = (await chat.say("ann", "/link")).text
    code = next(line for line in reply.splitlines() if line.startswith("Your code: "))
    await discord.say("ann", f"/link {code.removeprefix('Your code: ')}")
    assert (await _as(services, "ann", platform="discord")).me == here.me


async def test_another_process_changes_show_within_the_time_to_live(
    db: Database, clock: FrozenClock, services: Services
) -> None:
    other_db = Database(db.url)  # a second process: its own engine, its own cache
    other = Services(db=other_db, clock=clock, settings=services.settings)
    try:
        await _as(services, "ann")  # created
        await _as(services, "ann")  # looked up, and kept by this process
        await _say(other, "ann", "/settings lang zh")
        stale = (await _as(services, "ann")).actor.locale
        clock.advance(services.actors.ttl + timedelta(seconds=1))
        assert (await _as(services, "ann")).actor.locale == "zh"
    finally:
        await other_db.dispose()
    assert stale == "en"  # the bound: another process's change waits out the entry


def test_a_lookup_begun_before_a_change_is_not_kept(clock: FrozenClock) -> None:
    cache = ActorCache()
    since = cache.generation  # a lookup starts reading...
    cache.forget_people({7})  # ...a change to someone commits meanwhile...
    cache.put(("test", "ann"), clock.now(), (object(), object()), since)  # type: ignore[arg-type]
    assert cache.get(("test", "ann"), clock.now()) is None  # ...what it read is not kept

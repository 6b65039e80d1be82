"""Naming the actor of an incoming message, cheaply.

Most messages come from people we already know, so the lookup runs in a read-only unit of
work (no write lock on SQLite), or not at all when the account was looked up a moment ago
(`Services.actors`); only a new person, a changed name or a changed app language takes the
write path.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from core.chat.registry import Context, Services
from core.i18n import Translator
from core.models import Identity, Person
from core.services import people
from core.services.people import Actor
from core.validation import one_line

# the lookup of an account not seen for a while, built once with parameters
_ACCOUNT = (
    select(Identity, Person)
    .join(Person, Person.id == Identity.person_id)  # type: ignore[arg-type]
    .where(
        Identity.platform == sa.bindparam("platform"),
        Identity.external_id == sa.bindparam("external_id"),
    )
)


async def actor_for(
    services: Services,
    *,
    platform: str,
    external_id: str,
    display_name: str,
    username: str | None = None,
    platform_locale: str | None = None,
    private_chat: bool | None = None,
) -> Actor:
    key, now = (platform, external_id), services.clock.now()
    found = services.actors.get(key, now)
    if found is None:
        since = services.actors.generation
        async with services.db.uow(readonly=True) as uow:
            params = {"platform": platform, "external_id": external_id}
            row = (await uow.session.exec(_ACCOUNT, params=params)).first()
        if row is not None:
            found = (row[0], row[1])
            services.actors.put(key, now, found, since)
    identity, person = found if found else (None, None)
    name = one_line(display_name)[:128] or username or external_id
    unchanged = (
        identity is not None
        and person is not None
        and identity.username == username
        and (person.display_name == name or person.name_chosen)
        and person.last_platform == platform
        and people.reported_language(platform_locale) in (None, person.platform_locale)
        and not (private_chat and not identity.can_message)
    )
    if unchanged:
        return people.actor_of(person, platform, external_id)  # type: ignore[arg-type]
    async with services.db.uow() as uow:
        return await people.resolve_actor(
            uow,
            services.clock,
            platform=platform,
            external_id=external_id,
            display_name=display_name,
            username=username,
            platform_locale=platform_locale,
            private_chat=private_chat,
        )


async def context_for(
    services: Services,
    *,
    in_group_chat: bool = False,
    chat_id: str | None = None,
    **identity: str | bool | None,
) -> Context:
    """`chat_id`: the shared chat (group chat, server channel) the message came from."""
    actor = await actor_for(services, **identity)  # type: ignore[arg-type]
    chat = (actor.platform, chat_id) if chat_id is not None and in_group_chat else None
    return Context(
        services, actor, Translator(actor.locale), in_group_chat=in_group_chat, chat=chat
    )

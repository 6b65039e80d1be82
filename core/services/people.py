"""People and their platform identities, and their personal settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core.clock import Clock
from core.db import dialect_of, folded
from core.durations import format_duration, parse_offsets
from core.errors import invalid, not_found
from core.i18n import N_, SUPPORTED, normalize_locale
from core.models import Identity, Person
from core.parsing import NONE_WORDS
from core.recent import Recent
from core.services import reminders
from core.uow import UnitOfWork
from core.validation import check_timezone, clean_text, one_line

# how often a group chat may offer one person the start link (Telegram: the bot may not write to
# someone until they start it)
START_OFFER_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class Actor:
    """Who is acting: the Person, plus what an adapter needs to answer them."""

    person_id: int
    display_name: str
    locale: str
    timezone: str | None
    platform: str
    external_id: str  # the account the update came from


@dataclass
class ActorCache(Recent[tuple[str, str], tuple[Identity, Person]]):
    """Accounts recently looked up, as read (identity and person, detached), for `ttl`.

    Naming the actor of every update was a transaction and a join of its own, for a few rows
    that change only when the person changes a setting, links an account, or shows up under a
    new name. Changes committed through this process forget the person at once
    (`forget_people`, from `UnitOfWork.person_changed`); another process's changes show within
    `ttl` (a /lang sent to one webhook process, then a message to another).
    """

    ttl: timedelta = timedelta(seconds=15)
    size: int = 10_000

    def forget_people(self, person_ids: set[int]) -> None:
        self.forget(lambda found: found[1].id in person_ids)


async def find_identity(uow: UnitOfWork, platform: str, external_id: str) -> Identity | None:
    result = await uow.session.exec(
        select(Identity).where(Identity.platform == platform, Identity.external_id == external_id)
    )
    return result.first()


async def unreachable(uow: UnitOfWork, platform: str, external_id: str) -> None:
    """The platform refused a private message to this account (they blocked the bot): it is
    not written to again until they write to it privately (resolve_actor marks it back)."""
    identity = await find_identity(uow, platform, external_id)
    if identity is not None and identity.can_message:
        identity.can_message = False
        uow.session.add(identity)
        uow.person_changed(identity.person_id)
        await uow.commit()


async def claim_start_offer(uow: UnitOfWork, clock: Clock, platform: str, external_id: str) -> bool:
    """Whether to offer this account, which the bot may not write to, the link that lets it:
    at most once per START_OFFER_EVERY, so a crowd tapping Sign up in a group chat does not
    fill it with the same offer for each tap. One UPDATE claims it: two processes handling the
    same person's taps never both say it."""
    now = clock.now()
    claimed = await uow.session.exec(
        sa.update(Identity)
        .where(
            Identity.platform == platform,
            Identity.external_id == external_id,
            sa.not_(Identity.can_message),
            sa.or_(
                Identity.start_offered_at.is_(None),
                Identity.start_offered_at <= now - START_OFFER_EVERY,
            ),
        )
        .values(start_offered_at=now)
    )
    await uow.commit()
    return claimed.rowcount == 1


async def resolve_actor(
    uow: UnitOfWork,
    clock: Clock,
    *,
    platform: str,
    external_id: str,
    display_name: str,
    username: str | None = None,
    platform_locale: str | None = None,
    private_chat: bool | None = None,
) -> Actor:
    """Find or create the Person behind a platform account, and describe them as an Actor.

    A person's own language setting wins over the platform's language code, which is kept
    (`Person.platform_locale`) so what reaches them later speaks it too (`Person.language`).
    Commits only when something was created or changed (a first message, a new username, the
    app's language changed).

    `private_chat` is for platforms where a bot may not write first (Telegram): True when the
    person wrote to the bot privately (so it can now message them), False when seen only in a
    group chat so far, None where direct messages always work.
    """
    name = one_line(display_name)[:128] or username or external_id
    reported = reported_language(platform_locale)
    identity = await find_identity(uow, platform, external_id)
    if identity is None:
        person = Person(
            display_name=name,
            created_at=clock.now(),
            last_platform=platform,
            platform_locale=reported,
        )
        uow.session.add(person)
        await uow.session.flush()
        identity = Identity(
            person_id=person.id,
            platform=platform,
            external_id=external_id,
            username=username,
            can_message=private_chat is not False,
        )
        try:
            async with uow.session.begin_nested():
                uow.session.add(identity)
        except IntegrityError:  # the same account's first two messages raced; the other won
            await uow.rollback()
            return await resolve_actor(
                uow,
                clock,
                platform=platform,
                external_id=external_id,
                display_name=display_name,
                username=username,
                platform_locale=platform_locale,
                private_chat=private_chat,
            )
        await uow.commit()
    else:
        person = await uow.session.get(Person, identity.person_id)
        assert person is not None
        newly_reachable = private_chat is True and not identity.can_message
        renamed = person.display_name != name and not person.name_chosen
        moved = person.last_platform != platform  # notices follow them (core.services.reach)
        relanguaged = reported is not None and person.platform_locale != reported
        if identity.username != username or renamed or newly_reachable or moved or relanguaged:
            identity.username = username
            identity.can_message = identity.can_message or newly_reachable
            person.last_platform = platform
            if reported is not None:
                person.platform_locale = reported
            if renamed:
                person.display_name = name
            uow.session.add_all([identity, person])
            uow.person_changed(person.id)  # type: ignore[arg-type]
            await uow.commit()
    return actor_of(person, platform, external_id)


def reported_language(platform_locale: str | None) -> str | None:
    """The language a platform reports for someone, as one we ship ('zh-hans' -> 'zh', an
    unshipped one -> the default); None when it reports none (the last one reported stands)."""
    return normalize_locale(platform_locale) if platform_locale else None


def actor_of(person: Person, platform: str, external_id: str) -> Actor:
    """The person as the actor of an update whose reported language they already have."""
    return Actor(
        person_id=person.id,  # type: ignore[arg-type]
        display_name=person.display_name,
        locale=person.language,
        timezone=person.timezone,
        platform=platform,
        external_id=external_id,
    )


async def get_person(uow: UnitOfWork, person_id: int) -> Person:
    person = await uow.session.get(Person, person_id)
    if person is None:
        raise not_found("person", name=str(person_id))
    return person


AUTO_WORDS = ("auto", "default", "none", "-")  # no language of one's own: the app's


async def set_language(uow: UnitOfWork, person_id: int, language: str) -> str:
    """The person's own language, spoken to them wherever they are (answers, notices,
    reminders), or none of their own ('auto'): their app's. Returns the language now spoken."""
    code = language.strip().lower()
    aliases = {"english": "en", "中文": "zh", "chinese": "zh", "zh-cn": "zh", "zh-hans": "zh"}
    code = aliases.get(code, code)
    if code in AUTO_WORDS:
        code = None
    elif code not in SUPPORTED:
        raise invalid(
            "bad_language",
            N_("I speak {languages}. “{given}” is not one of them."),
            languages=", ".join(SUPPORTED),
            given=language,
        )
    person = await get_person(uow, person_id)
    person.locale = code
    spoken = person.language
    uow.session.add(person)
    uow.person_changed(person_id)
    await uow.commit()
    return spoken


async def set_timezone(uow: UnitOfWork, person_id: int, name: str) -> str | None:
    """Set the person's own timezone, or clear it ('none'): activity times then show in the
    activity's own zone only."""
    typed = name.strip().lower()
    zone = None if typed and typed in NONE_WORDS else check_timezone(name)  # "" is no zone
    person = await get_person(uow, person_id)
    person.timezone = zone
    uow.session.add(person)
    uow.person_changed(person_id)
    await uow.commit()
    return zone


async def set_reminders(
    uow: UnitOfWork, person_id: int, value: str, now: datetime | None = None
) -> str | None:
    """'off', 'on' (the defaults) or a list of offsets like '2h,30m'. Returns what was stored.

    With `now`, the person's upcoming activities get reminder rows for their own offsets in the
    same transaction (who receives a reminder is decided when it fires, so 'off' needs none).
    """
    text = value.strip().lower()
    person = await get_person(uow, person_id)
    if text in ("off", "no", "none", "0"):
        person.reminders_enabled = False
    elif text in ("on", "yes", "default"):
        person.reminders_enabled, person.reminder_offsets = True, None
    else:
        try:
            offsets = parse_offsets(text)
            if not offsets:
                raise ValueError("no offsets")
        except ValueError:
            raise invalid(
                "bad_offsets",
                N_("Say on, off, or times before the activity like 24h,1h or 30m."),
            ) from None
        person.reminders_enabled = True
        person.reminder_offsets = ",".join(format_duration(o) for o in offsets)
    uow.session.add(person)
    if now is not None and person.reminder_offsets:
        await uow.session.flush()
        await reminders.schedule_for_person(uow, person_id, now)
    await uow.commit()
    return person.reminder_offsets if person.reminders_enabled else "off"


async def rename(uow: UnitOfWork, person_id: int, name: str) -> str:
    person = await get_person(uow, person_id)
    person.display_name = one_line(clean_text(name, field="name", min_len=1, max_len=64))
    person.name_chosen = True  # kept when the platform's name changes
    uow.session.add(person)
    uow.person_changed(person_id)
    await uow.commit()
    return person.display_name


async def handles_named(uow: UnitOfWork, platform: str, name: str) -> list[str]:
    """The handles (external ids) on `platform` of the people a typed name means: the handle
    itself if someone has it, else everyone whose display name it is (any letter case)."""
    lowered = name.strip().lower()
    if await find_identity(uow, platform, lowered) is not None:
        return [lowered]
    rows = await uow.session.exec(
        select(Identity.external_id)
        .join(Person, Person.id == Identity.person_id)  # type: ignore[arg-type]
        .where(
            Identity.platform == platform,
            folded(dialect_of(uow), Person.display_name) == lowered,
        )
        .order_by(Identity.external_id)
    )
    return list(rows.all())


PLATFORM_CHOICES = ("telegram", "discord", "console")


async def set_preferred_platform(uow: UnitOfWork, person_id: int, value: str) -> str | None:
    """Where notices reach this person first (core.services.reach); `auto`: where they wrote
    last. Only a platform they have an account on."""
    choice = value.strip().lower()
    person = await get_person(uow, person_id)
    if choice == "auto":
        person.preferred_platform = None
    else:
        mine = (
            await uow.session.exec(select(Identity.platform).where(Identity.person_id == person_id))
        ).all()
        if choice not in PLATFORM_CHOICES or choice not in mine:
            raise invalid(
                "platform_unknown",
                N_("Choose one of your platforms ({platforms}) or auto."),
                platforms=", ".join(sorted(set(mine))),
            )
        person.preferred_platform = choice
    uow.session.add(person)
    await uow.commit()
    return person.preferred_platform

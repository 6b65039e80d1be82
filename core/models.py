"""The tables. One family per entity; everything a person does points at the Person, never at a
platform account, so linking a Telegram and a Discord account is a merge of Identities.

Times are stored as UTC (see UTCDateTime) and shown in the viewer's or the group's timezone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from core.i18n import default_locale
from core.validation import as_group_number, slugify


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as naive UTC (SQLite has no time zones) and returns them aware."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return as_stored(value)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def as_stored(value: datetime) -> datetime:
    """An aware datetime as a UTC column holds it: naive UTC (hot paths that read the columns
    raw compare against this)."""
    return value.astimezone(UTC).replace(tzinfo=None)


class epoch_seconds(FunctionElement):
    """A UTC column as seconds since 1970 (float), computed by the database: hot paths that rank
    hundreds of rows by time do arithmetic on floats instead of parsing and subtracting
    datetimes (SQLite stores them as text)."""

    type = sa.Float()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    # date_part is double precision; EXTRACT would be numeric (decimals, slow to convert)
    return f"date_part('epoch', {compiler.process(element.clauses, **kw)})"


def utc_column(nullable: bool = False, index: bool = False) -> sa.Column:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"  # asked to join a private group; `created_at` is when they asked
    DECLINED = "declined"  # their request was declined at `created_at` (the cool-down runs)
    BANNED = "banned"
    LEFT = "left"


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class EventStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class RegistrationStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    MAYBE = "maybe"  # interested: holds no seat, is shown apart, reminded only if they asked
    OFFERED = "offered"  # a freed seat held for them until `offer_until` (timed offers)
    CANCELLED = "cancelled"


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    display_name: str = Field(max_length=128)
    name_chosen: bool = False  # set by /settings name: the platform's name no longer replaces it
    # The language: `locale` is the person's own choice (/settings language; None: auto), and
    # `platform_locale` the one their app last reported, as a language we ship (`language`).
    locale: str | None = Field(default=None, max_length=16)
    platform_locale: str | None = Field(default=None, max_length=16)
    timezone: str | None = Field(default=None, max_length=64)
    reminders_enabled: bool = True
    reminder_offsets: str | None = Field(default=None, max_length=128)
    created_at: datetime = Field(sa_column=utc_column())
    # Discovery (all opt-in): a home location for /nearby, stated interests, and whether
    # others may find this person in /companions.
    latitude: float | None = None
    longitude: float | None = None
    interests: str = Field(default="", max_length=300)
    discoverable: bool = False
    # Where notices reach a person with accounts on several platforms (core.notify.reach):
    # their own choice, else the platform they used last.
    preferred_platform: str | None = Field(default=None, max_length=16)
    last_platform: str | None = Field(default=None, max_length=16)
    # /calendar: the secret in the person's feed URL; None until asked for, new on reset
    calendar_token: str | None = Field(default=None, max_length=64, unique=True, index=True)

    @property
    def language(self) -> str:
        """The language the bot speaks to this person in, in answers and in everything that
        reaches them later (notices, reminders, offers, copies of cards drawn for them): their
        own choice, else what their app reports, else the default."""
        return self.locale or self.platform_locale or default_locale()


class LinkCode(SQLModel, table=True):
    """A one-time code that joins another platform's account to this person (/link). Only its
    hash is stored: the code itself was shown once, to its owner."""

    __table_args__ = (sa.UniqueConstraint("code_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    code_hash: str = Field(max_length=64)
    platform: str = Field(max_length=16)  # where it was asked for
    expires_at: datetime = Field(sa_column=utc_column())
    used: bool = False


class LinkAttempt(SQLModel, table=True):
    """A code typed that matched nothing: a person has a few an hour (guessing is hopeless)."""

    __table_args__ = (sa.Index("ix_link_attempt_person_at", "person_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    at: datetime = Field(sa_column=utc_column())


class Identity(SQLModel, table=True):
    """One platform account of a Person. (platform, external_id) is unique across the system."""

    __table_args__ = (sa.UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    username: str | None = Field(default=None, max_length=64)
    can_message: bool = True
    # when a group chat last offered this account the link that lets the bot write to it (while
    # it may not): at most once a day, so a crowd of such tappers does not fill the chat with it
    start_offered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Group(SQLModel, table=True):
    __tablename__ = "community_group"
    __table_args__ = (
        sa.Index("ix_community_group_visibility_members", "visibility", "members"),  # popular
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=48, unique=True)
    name: str = Field(max_length=80)
    description: str = Field(default="", max_length=1000)
    tags: str = Field(default="", max_length=300)
    visibility: str = Field(default=Visibility.PUBLIC, max_length=16)
    timezone: str = Field(default="UTC", max_length=64)
    members_can_create_events: bool = False
    created_by: int = Field(foreign_key="person.id")
    created_at: datetime = Field(sa_column=utc_column())
    # active members, kept in step by core.services.tallies (lists and rankings read it)
    members: int = Field(default=0, sa_column_kwargs={"server_default": "0"})

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(",") if t]

    @property
    def ref(self) -> str:
        """What finds this group in a command whatever its name or slug ('#3'): for a
        reference the bot passes on itself (a wizard's step, an autocomplete choice), where a
        slug from before slugify's rules ('2' for "读书会2") would name group #2."""
        return f"#{self.id}"

    @property
    def handle(self) -> str:
        """What to type to name this group in a command ('/join {handle}'): its slug when that
        is the slug of its name; else (a name with no slug, like "读书会2", whose slug column
        holds a stand-in, or the slug "2" from before slugify's rules) its name, which
        find_group finds as well; or '#3' for a name that would be read as a group number."""
        if self.slug and self.slug == slugify(self.name):
            return self.slug
        return f"#{self.id}" if as_group_number(self.name) is not None else self.name


class Membership(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("group_id", "person_id"),
        # /recommend: a group's most recent members, and the other groups of a set of people
        sa.Index("ix_membership_group_status_id", "group_id", "status", "id"),
        sa.Index("ix_membership_person_status_group", "person_id", "status", "group_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="community_group.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(default=Role.MEMBER, max_length=16)
    status: str = Field(default=MembershipStatus.ACTIVE, max_length=16)
    created_at: datetime = Field(sa_column=utc_column())
    # who decided their last join request: an admin, or they themself when they withdrew it;
    # an admin's later tap on it says who (None: no request, or decided before this was kept)
    decided_by: int | None = Field(default=None, foreign_key="person.id")


class Post(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_post_group_created", "group_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="community_group.id")
    author_id: int = Field(foreign_key="person.id")
    body: str = Field(max_length=4000)
    pinned: bool = False
    deleted: bool = False
    created_at: datetime = Field(sa_column=utc_column())
    edited_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Comment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    author_id: int = Field(foreign_key="person.id")
    body: str = Field(max_length=2000)
    created_at: datetime = Field(sa_column=utc_column())


class Like(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("post_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    person_id: int = Field(foreign_key="person.id")


class Series(SQLModel, table=True):
    """A recurring activity: its occurrences are ordinary activities (own roster, card and
    reminders) made ahead from `rule`, an RFC 5545 RRULE over the wall time `starts_local` in
    `timezone` (core.services.series)."""

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="community_group.id")
    creator_id: int = Field(foreign_key="person.id")
    rule: str = Field(max_length=200)
    # the first occurrence's wall time, naive, in `timezone`
    starts_local: datetime = Field(sa_column=sa.Column(sa.DateTime(), nullable=False))
    timezone: str = Field(max_length=64)
    cancelled: bool = False
    created_at: datetime = Field(sa_column=utc_column())


class SeriesMember(SQLModel, table=True):
    """Someone signed up for every occurrence, those made later included."""

    __table_args__ = (sa.UniqueConstraint("series_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    series_id: int = Field(foreign_key="series.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)


class Event(SQLModel, table=True):
    """An offline activity. `starts_at` is UTC; `timezone` is where it happens, for display."""

    __table_args__ = (
        sa.Index("ix_event_group_start", "group_id", "starts_at"),
        sa.Index("ux_event_series_start", "series_id", "starts_at", unique=True),
        # /nearby: the box on (latitude, longitude), and everything its score reads, so the few
        # hundred activities of a city are read from the index alone (half the time, measured;
        # PostgreSQL needs the id named too: migration 0005)
        sa.Index(
            "ix_event_nearby",
            "latitude",
            "longitude",
            "status",
            "starts_at",
            "group_id",
            "capacity",
            "going",
            "heat",
            "heat_at",
            "id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="community_group.id")
    creator_id: int = Field(foreign_key="person.id")
    title: str = Field(max_length=120)
    description: str = Field(default="", max_length=2000)
    starts_at: datetime = Field(sa_column=utc_column(index=True))
    timezone: str = Field(max_length=64)
    place: str = Field(max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    fee_cents: int = 0
    fee_currency: str | None = Field(default=None, max_length=8)
    capacity: int | None = None
    signup_deadline: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    reminder_offsets: str | None = Field(default=None, max_length=128)
    status: str = Field(default=EventStatus.SCHEDULED, max_length=16)
    created_at: datetime = Field(sa_column=utc_column())
    # the roster in numbers, kept in step by core.services.tallies: every card shows them and
    # /nearby ranks by them, so they are read far more often than a sign-up writes them
    going: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    waiting: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    heat: float = Field(default=0.0, sa_column_kwargs={"server_default": "0"})  # as of heat_at
    heat_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    interested: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # maybe
    # guests one person may bring (+1s); 0: none. Guests take seats like anyone.
    max_guests: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # timed waitlist offers: a freed seat is offered for this long (None: given at once)
    offer_seconds: int | None = None
    # calendar entries (.ics): bumped when the time, place, title or details change, or it is
    # cancelled, so calendars that imported it replace their copy
    sequence: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # an occurrence of a recurring activity (core.services.series); one per series and start.
    # A series id, not a declared foreign key: SQLite adds one to an existing table only by
    # rebuilding it, which the rows referring to activities forbid
    series_id: int | None = None


class Registration(SQLModel, table=True):
    """A person's place on an activity (with their guests): one row per (event, person), ever.

    `seq` is the arrival order within the event; a person who cancels and signs up again gets a
    new, later `seq`, so they join the back of the queue.
    """

    __table_args__ = (
        sa.UniqueConstraint("event_id", "person_id"),
        sa.Index("ix_registration_event_status_seq", "event_id", "status", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    status: str = Field(max_length=16)
    seq: int
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())
    # the person's party is 1 + guests: it takes seats, and waits, as a whole
    guests: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # a "maybe" is reminded only if they asked (people with a seat always are)
    remind: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    offer_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # check-in (core.services.attendance): None until the organiser opens it, then False
    # (not there: a no-show) until they tap the person present
    attended: bool | None = None


class ProcessedUpdate(SQLModel, table=True):
    """An incoming platform update already applied (see core.services.inbox)."""

    __tablename__ = "processed_update"

    platform: str = Field(max_length=16, primary_key=True)
    update_id: int = Field(sa_type=sa.BigInteger, primary_key=True)
    received_at: datetime = Field(sa_column=utc_column(index=True))


class GroupChat(SQLModel, table=True):
    """A platform chat that is a group's home: new activities and posts are announced there.
    A group may have several, on one platform or both (one community across platforms)."""

    __tablename__ = "group_chat"
    __table_args__ = (sa.UniqueConstraint("group_id", "platform", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="community_group.id", index=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    locale: str | None = Field(default=None, max_length=16)


class ReminderStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    SKIPPED = "skipped"  # came due after the activity had started (the bot was down)
    CANCELLED = "cancelled"  # the activity was cancelled
    SUPERSEDED = "superseded"  # the activity moved, or a closer reminder went out instead


class Reminder(SQLModel, table=True):
    """One alarm: "remind the people of activity E, `offset` before it starts".

    The database is the truth; the scheduler only wakes the process at the next `due_at`. A row
    is claimed (status + lease) by one process before it fires, so two processes never fire it
    both. Rescheduling supersedes the row and writes a new one for the new time.
    """

    __table_args__ = (
        sa.UniqueConstraint("event_id", "offset_seconds", "due_at"),
        sa.Index("ix_reminder_status_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    offset_seconds: int
    due_at: datetime = Field(sa_column=utc_column())
    status: str = Field(default=ReminderStatus.PENDING, max_length=16)
    claimed_by: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    fired_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class DeliveryStatus(StrEnum):
    SENDING = "sending"  # recorded before sending; stays so if the process died mid-send
    SENT = "sent"
    FAILED = "failed"


class Delivery(SQLModel, table=True):
    """One reminder to one person, recorded before it is sent: the unique key makes a second
    send impossible, even after a crash and restart."""

    __table_args__ = (sa.UniqueConstraint("reminder_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    reminder_id: int = Field(foreign_key="reminder.id")
    event_id: int = Field(foreign_key="event.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    offset_seconds: int
    status: str = Field(default=DeliveryStatus.SENDING, max_length=16)
    platform: str | None = Field(default=None, max_length=16)
    reason: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(sa_column=utc_column())
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Dismissal(SQLModel, table=True):
    """Something a person asked not to be recommended again (a group, post or activity)."""

    __table_args__ = (sa.UniqueConstraint("person_id", "kind", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: str = Field(max_length=8)  # group | post | event
    item_id: int


class HelloStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Hello(SQLModel, table=True):
    """A "Say hi" from one person to another; handles are revealed only once accepted."""

    __table_args__ = (sa.UniqueConstraint("from_person", "to_person"),)

    id: int | None = Field(default=None, primary_key=True)
    from_person: int = Field(foreign_key="person.id")
    to_person: int = Field(foreign_key="person.id", index=True)
    status: str = Field(default=HelloStatus.PENDING, max_length=16)
    created_at: datetime = Field(sa_column=utc_column())


class Block(SQLModel, table=True):
    """`person_id` never sees `blocked_id` in discovery again, and vice versa."""

    __table_args__ = (sa.UniqueConstraint("person_id", "blocked_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    blocked_id: int = Field(foreign_key="person.id", index=True)


class ReportStatus(StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"  # looked at: nothing to do
    ACTED = "acted"  # the post was deleted or the person banned


class Report(SQLModel, table=True):
    """A report of a person (companions) or of a post and its author (a group's post card), for
    the operators and, when it is about something in a group, that group's admins (/reports)."""

    __table_args__ = (sa.Index("ix_report_status_group", "status", "group_id"),)

    id: int | None = Field(default=None, primary_key=True)
    reporter_id: int = Field(foreign_key="person.id")
    reported_id: int = Field(foreign_key="person.id", index=True)
    reason: str = Field(default="", max_length=500)
    created_at: datetime = Field(sa_column=utc_column())
    group_id: int | None = Field(default=None, foreign_key="community_group.id")
    post_id: int | None = Field(default=None, foreign_key="post.id")
    # the post's text when it was reported: its author may edit it afterwards
    reported_text: str | None = Field(default=None, max_length=4000)
    status: str = Field(default=ReportStatus.OPEN, max_length=16)
    handled_by: int | None = Field(default=None, foreign_key="person.id")


class WorkStatus(StrEnum):
    """The life of a claimed row (a reminder, a job): see core.work."""

    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"


class Job(SQLModel, table=True):
    """Durable background work that is not a reminder: one row per (kind, key), e.g. "redraw
    the cards of activity 42". Scheduled inside the business transaction that makes it
    necessary, claimed with a short lease by whichever process is alive (core.work).

    `generation` grows every time the work is asked for again; a worker finishing a claim made
    at an older generation leaves the row pending, so a change that lands while the work runs
    is never lost (coalesced, not dropped)."""

    __table_args__ = (
        sa.UniqueConstraint("kind", "key"),
        sa.Index("ix_job_status_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    key: str = Field(max_length=64)
    due_at: datetime = Field(sa_column=utc_column())
    status: str = Field(default=WorkStatus.PENDING, max_length=16)
    generation: int = 0
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    payload: str | None = Field(default=None, max_length=2000)


class CardCopy(SQLModel, table=True):
    """One posted copy of a live card (core.livecards), of an activity or of a post (exactly one
    of `event_id`, `post_id`): where it is, whose view it shows (`viewer_id` None: a shared card
    in a group chat or channel), in which language, and a digest of what it shows now, so a
    redraw that would change nothing sends nothing."""

    __tablename__ = "card_copy"
    __table_args__ = (sa.UniqueConstraint("platform", "chat_id", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int | None = Field(default=None, foreign_key="event.id", index=True)
    post_id: int | None = Field(default=None, foreign_key="post.id", index=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    message_id: str = Field(max_length=64)
    viewer_id: int | None = Field(default=None, foreign_key="person.id")
    locale: str | None = Field(default=None, max_length=16)
    digest: str = Field(default="", max_length=32)
    created_at: datetime = Field(sa_column=utc_column())


class NativeEvent(SQLModel, table=True):
    """An activity mirrored as a platform's own event (a Discord server's Scheduled Event): which
    one, where, so an edit or a cancellation reaches it (adapters/discord/scheduled.py)."""

    __tablename__ = "native_event"
    __table_args__ = (sa.UniqueConstraint("event_id", "platform", "space_id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    platform: str = Field(max_length=16)
    space_id: str = Field(max_length=64)  # the Discord server (guild)
    native_id: str = Field(max_length=64)

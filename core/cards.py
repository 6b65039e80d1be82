"""Platform-neutral messages: spans of text plus buttons, rendered by each adapter.

User text travels as TEXT spans and is escaped by every renderer; markup is never built by
pasting strings, so a title like `<b>&_*` shows as written on every platform.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.actions import Action
from core.i18n import Translator


class Style(StrEnum):
    TEXT = "text"
    BOLD = "bold"
    ITALIC = "italic"
    LINK = "link"
    TIME = "time"
    CODE = "code"
    MENTION = "mention"  # a person on the platform: `url` holds their platform id


@dataclass(frozen=True, slots=True)
class Span:
    style: Style
    text: str
    url: str | None = None
    when: datetime | None = None  # TIME spans: Discord shows its own timestamp widget


def plain(text: str) -> Span:
    return Span(Style.TEXT, text)


def bold(text: str) -> Span:
    return Span(Style.BOLD, text)


def italic(text: str) -> Span:
    return Span(Style.ITALIC, text)


def code(text: str) -> Span:
    return Span(Style.CODE, text)


def link(text: str, url: str) -> Span:
    return Span(Style.LINK, text, url=url)


def mention(name: str, external_id: str) -> Span:
    return Span(Style.MENTION, name, url=external_id)


def moment(text: str, when: datetime) -> Span:
    return Span(Style.TIME, text, when=when)


SLOT = "\x00"  # stands for a span in a translated sentence, until `slotted` puts it there


def slotted(sentence: str, span: Span, style: Style = Style.TEXT) -> list[Span]:
    """A translated sentence with `span` where SLOT stood, e.g. a moment in
    t("It's held for you until {time}: …", time=SLOT): one msgid, each language's own word
    order, and the time still shown in each reader's zone where the platform can (Discord)."""
    before, _, after = sentence.partition(SLOT)
    return [Span(style, before), span, Span(style, after)]


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: Action | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file for the person: a Telegram document, a Discord attachment, a file on the
    console. Small by construction (an .ics, a roster), far below the platforms' limits."""

    name: str
    data: bytes
    mime: str


@dataclass(frozen=True, slots=True)
class Place:
    """Coordinates to show as a map pin (a Telegram venue) beside the card."""

    latitude: float
    longitude: float
    title: str
    address: str


@dataclass(frozen=True, slots=True)
class LiveCard:
    """Marks a card whose posted copies are kept up to date (core.livecards): an activity's
    card (`event_id`) or a post's (`post_id`). `personal`: it shows the reader's own place
    (their seat, their like), so a copy belongs to one reader."""

    personal: bool
    event_id: int | None = None
    post_id: int | None = None

    @property
    def subject(self) -> str:
        """What the copies are of, as the key of their refresh job: "event:7", "post:12"."""
        if self.event_id is not None:
            return f"event:{self.event_id}"
        return f"post:{self.post_id}"


@dataclass
class Card:
    lines: list[list[Span]] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    place: Place | None = None
    live: LiveCard | None = None
    file: Attachment | None = None  # sent with the card (a calendar file, a CSV)

    def add(self, *spans: Span | str) -> Card:
        self.lines.append([plain(s) if isinstance(s, str) else s for s in spans])
        return self

    def row(self, *buttons: Button) -> Card:
        if buttons:
            self.buttons.append(list(buttons))
        return self

    @property
    def text(self) -> str:
        """The card as unstyled text, for logs and tests."""
        return "\n".join("".join(span.text for span in line) for line in self.lines)


def snippet(text: str, limit: int) -> str:
    """The first `limit` characters of a text shown in part (a post in a notice or a list),
    with "…" where it was cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def note(text: str) -> Card:
    return Card().add(text)


def repeats(card: Card, toast: str | None) -> bool:
    """Whether the card only says what the toast says (a confirmation, a "⚠️" error note): a
    platform that shows both would say it twice."""
    if not toast or card.buttons or card.file or card.place or card.live:
        return False
    return card.text.removeprefix("⚠️ ").strip() == toast.strip()


@dataclass
class Notice:
    """A message for someone other than the actor (a promotion, a change to an activity).

    `card` is built in the recipient's own language when it is delivered. `home_of`: the group
    whose home chat mentions the person when the platform refuses a private message (someone
    who tapped Sign up in a group chat and never started the bot): set for a seat from the
    waitlist or held for them, news for them alone. A moved or cancelled activity is not (its
    live card in that chat shows it already, and a crowd's mentions would flood the chat), nor
    what is nobody else's business (a ban, a report, a hi). `in_public`: what that mention
    says when the card's own words would not do without its buttons (how to take a held seat
    there); the card's text when None.
    """

    person_id: int
    card: Callable[[Translator], Card]
    home_of: int | None = None
    in_public: Callable[[Translator], Card] | None = None


@dataclass
class Reply:
    """What a command or a click produces for the person who did it.

    `toast` is the short answer to a button click; `edit` says the first card replaces the
    message the button was on. What the action tells other people is not part of it: the
    service writes a durable job for it with the change, and the notice worker tells them
    (core.notices).
    """

    cards: list[Card] = field(default_factory=list)
    toast: str | None = None
    edit: bool = False
    alert: bool = False

    @property
    def text(self) -> str:
        return "\n\n".join(card.text for card in self.cards)

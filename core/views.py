"""Cards for what services return: one function per thing a person looks at.

Views translate with the viewer's Translator and format times in the place's timezone (the
activity's) or the viewer's own, so every adapter shows the same words and numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_timedelta

from core.actions import Act, act
from core.cards import (
    SLOT,
    Button,
    Card,
    LiveCard,
    Place,
    Span,
    Style,
    bold,
    code,
    italic,
    moment,
    plain,
    slotted,
    snippet,
)
from core.i18n import PLATFORM_NAMES, Translator
from core.models import Event, EventStatus, Group, Role, Visibility
from core.parsing import format_fee
from core.services.events import Attendees, EventView
from core.services.groups import GroupSummary
from core.services.posts import PostPage, PostView, ReplyView

PREVIEW_CHARS = 300
_BABEL_LOCALES = {"en": "en", "zh": "zh_Hans_CN"}


def format_time(when: datetime, timezone: str, t: Translator) -> str:
    """'Sat, 6 Dec 2026, 09:00 (Europe/Berlin)', in the viewer's language."""
    local = when.astimezone(ZoneInfo(timezone))
    pattern = "EEE, d MMM y, HH:mm" if t.locale == "en" else "y年M月d日 EEE HH:mm"
    text = format_datetime(local, pattern, locale=_BABEL_LOCALES.get(t.locale, "en"))
    return f"{text} ({timezone})"


def format_day(wall: datetime, t: Translator) -> str:
    """'1 Feb 2027' for a wall time (already in its zone), in the viewer's language; with the
    time of day unless it is the day's end (23:59, what a day alone is read as)."""
    end_of_day = (wall.hour, wall.minute) == (23, 59)
    if t.locale == "en":
        pattern = "d MMM y" if end_of_day else "d MMM y, HH:mm"
    else:
        pattern = "y年M月d日" if end_of_day else "y年M月d日 HH:mm"
    return format_datetime(wall, pattern, locale=_BABEL_LOCALES.get(t.locale, "en"))


def fee_text(view: EventView, t: Translator) -> str:
    return event_fee(view.event, t)


def event_fee(event: Event, t: Translator) -> str:
    """An activity's fee as every card and notice says it ("Free" when none)."""
    return format_fee(event.fee_cents, event.fee_currency) or t("Free")


def counts_text(view: EventView, t: Translator) -> str:
    event = view.event
    if event.capacity is None:
        text = t.ngettext("{n} going", "{n} going", view.confirmed)
    else:
        text = t("{confirmed}/{capacity} going", confirmed=view.confirmed, capacity=event.capacity)
    if view.waitlisted:
        text += t(", ") + t.ngettext("{n} on the waitlist", "{n} on the waitlist", view.waitlisted)
    if event.interested:
        text += t(", ") + t.ngettext("{n} maybe", "{n} maybe", event.interested)
    return text


def your_status(view: EventView, t: Translator) -> list[Span] | None:
    """The viewer's own place, in italics: an offer's deadline is a moment, each reader's own
    time where the platform shows one (Discord)."""
    guests = view.viewer_guests
    said = None
    if view.viewer_status == "confirmed":
        said = (
            t.ngettext(
                "✅ You're going, with {n} guest.", "✅ You're going, with {n} guests.", guests
            )
            if guests
            else t("✅ You're going.")
        )
    elif view.viewer_status == "waitlisted":
        said = t("⏳ You're #{position} on the waitlist.", position=view.viewer_position)
        if guests:
            said += " " + t.ngettext(
                "Your party: you and {n} guest.", "Your party: you and {n} guests.", guests
            )
    elif view.viewer_status == "maybe":
        said = t("🤔 You're a maybe: no seat is held for you.")
        if view.viewer_reminded:
            said += " " + t("You'll get the reminders too.")
    elif view.viewer_status == "offered":
        until = view.viewer_offer_until
        if until is None:
            said = t("🎟 A seat is held for you: accept it or pass it on.")
        else:
            held = moment(format_time(until, view.event.timezone, t), until)
            sentence = t("It's held for you until {time}: accept it or pass it on.", time=SLOT)
            return slotted(sentence, held, Style.ITALIC)
    return [italic(said)] if said else None


def event_buttons(view: EventView, t: Translator, *, open_: bool = True) -> list[Button]:
    """The card's main row: what anyone may do with the activity (no Sign up once sign-up has
    closed: `open_` False)."""
    event_id = view.event.id
    return [
        *([Button(t("✅ Sign up"), act(Act.SIGN_UP, event_id))] if open_ else []),  # type: ignore[arg-type]
        Button(t("🤔 Maybe"), act(Act.MAYBE, event_id)),  # type: ignore[arg-type]
        Button(t("❌ Cancel"), act(Act.CANCEL_SIGNUP, event_id)),  # type: ignore[arg-type]
        Button(t("👥 Who's going"), act(Act.WHO, event_id)),  # type: ignore[arg-type]
    ]


def guest_buttons(view: EventView, t: Translator, *, personal: bool) -> list[Button]:
    """+1 / -1 where the activity takes guests; a maybe's reminders on or off on their own
    card."""
    event_id = view.event.id
    buttons = []
    fewer = Button(t("➖ Guest"), act(Act.GUEST_FEWER, event_id))  # type: ignore[arg-type]
    if view.event.max_guests:
        buttons += [Button(t("➕ Guest"), act(Act.GUEST_MORE, event_id)), fewer]  # type: ignore[arg-type]
    elif personal and view.viewer_guests:  # guests no longer taken: theirs can still go
        buttons.append(fewer)
    if personal and view.viewer_status == "maybe":
        buttons.append(
            Button(t("🔕 Stop reminders"), act(Act.NO_REMINDERS, event_id))  # type: ignore[arg-type]
            if view.viewer_reminded
            else Button(t("🔔 Remind me too"), act(Act.REMIND_MAYBE, event_id))  # type: ignore[arg-type]
        )
    if personal and view.viewer_status == "offered":
        buttons += [
            Button(t("✅ Accept"), act(Act.ACCEPT_OFFER, event_id)),  # type: ignore[arg-type]
            Button(t("↪️ Pass"), act(Act.PASS_OFFER, event_id)),  # type: ignore[arg-type]
        ]
    return buttons


# platforms whose clients show every time in the reader's own zone (Discord's <t:…>)
LOCAL_TIMES = frozenset({"discord"})


def event_card(
    view: EventView,
    t: Translator,
    *,
    personal: bool = True,
    reader_zone: str | None = None,
    now: datetime | None = None,
) -> Card:
    """The activity card. `personal` adds the viewer's own status (not in shared chats);
    `reader_zone`, the reader's own timezone, adds the time there when it differs (platforms
    that show times in each reader's zone themselves, like Discord, pass none). From its
    sign-up deadline (`now`) it offers no Sign up and says sign-up closed; from its start the
    roster is closed: the card says so and keeps only "Who's going"."""
    event = view.event
    started = now is not None and event.starts_at <= now
    deadline = event.signup_deadline
    open_ = deadline is None or now is None or now <= deadline  # as sign_up reads it
    card = Card()
    title = [bold(event.title), plain(f"  #{event.id}")]
    cancelled = event.status == EventStatus.CANCELLED  # nobody is going to it any more
    if personal and view.viewer_status == "offered" and not cancelled:  # the offer's news
        title.insert(0, bold(t("🎟 A seat opened up for you: ")))
    if cancelled:
        title.insert(0, plain(t("[Cancelled] ")))
    card.add(*title)
    card.add(plain(t("Group: ")), plain(view.group.name))
    card.add(plain("🕒 "), moment(format_time(event.starts_at, event.timezone, t), event.starts_at))
    if personal:
        _add_your_time(card, event, reader_zone, t)
    card.add(plain("📍 "), plain(event.place))
    card.add(plain("💶 "), plain(fee_text(view, t)))
    if not cancelled:
        card.add(plain("👥 "), plain(counts_text(view, t)))
    if deadline is not None:
        card.add(
            plain(t("Sign-up closes: ") if open_ else t("Sign-up closed: ")),
            moment(format_time(deadline, event.timezone, t), deadline),
        )
    if event.description:
        card.add(plain(""))
        card.add(plain(event.description))
    status = your_status(view, t) if personal and not cancelled else None
    if status:
        card.add(plain(""))
        card.add(*status)
    if event.max_guests:
        card.add(
            plain(
                t.ngettext(
                    "Guests: up to {n} per person.",
                    "Guests: up to {n} per person.",
                    event.max_guests,
                )
            )
        )
    if started and not cancelled:
        card.add(plain(""))
        card.add(italic(t("It has started: sign-up is closed.")))
        card.row(Button(t("👥 Who's going"), act(Act.WHO, event.id)))  # type: ignore[arg-type]
    elif not cancelled:
        card.row(*event_buttons(view, t, open_=open_))
        calendar = Button(t("📅 Add to calendar"), act(Act.CALENDAR, event.id))  # type: ignore[arg-type]
        card.row(*guest_buttons(view, t, personal=personal), calendar)
        if event.series_id is not None:
            card.row(Button(t("🔁 Every time"), act(Act.SERIES_JOIN, event.id)))  # type: ignore[arg-type]
    if not cancelled:  # live, a started one too: a cancellation still shows on it
        card.live = LiveCard(personal, event_id=event.id)
    if event.latitude is not None and event.longitude is not None:
        card.place = Place(event.latitude, event.longitude, event.title, event.place)
    return card


def _add_your_time(card: Card, event: Event, reader_zone: str | None, t: Translator) -> None:
    """The start in the reader's own zone too, when it is not the activity's."""
    if reader_zone and reader_zone != event.timezone:
        card.add(
            plain("   "), plain(t("your time: ") + format_time(event.starts_at, reader_zone, t))
        )


def event_list_card(
    title: str,
    views: list[EventView],
    t: Translator,
    reader_zone: str | None = None,
    *,
    personal: bool = True,
) -> Card:
    """Activities in one message, a few lines each, with a button per activity that opens its
    card (where Sign up edits the card in place). One message, not one per activity, keeps
    chats readable and within rate limits. `reader_zone`, `personal`: as for event_card."""
    card = Card().add(bold(title))
    for view in views:
        event = view.event
        card.add("")
        card.add(bold(event.title), plain(f"  #{event.id} · "), plain(view.group.name))
        card.add(moment(format_time(event.starts_at, event.timezone, t), event.starts_at))
        _add_your_time(card, event, reader_zone, t)
        card.add(plain(f"📍 {event.place} · {fee_text(view, t)} · {counts_text(view, t)}"))
        status = your_status(view, t) if personal else None
        if status:
            card.add(*status)
        card.row(Button(f"#{event.id} {event.title}"[:40], act(Act.EVENT, event.id)))  # type: ignore[arg-type]
    return card


def attendees_card(result: Attendees, t: Translator) -> Card:
    """One roster whatever platform people came from; when it spans several, each name has a
    small mark of where the person is (linked people: every platform, once)."""
    card = Card().add(bold(t("Who's going: ")), bold(result.view.event.title))
    marked = len(result.platforms) > 1

    def line(number: int, person) -> list:
        spans = [plain(f"{number}. "), plain(person.name)]
        if person.guests:
            spans.append(plain(f" +{person.guests}"))
        if marked and person.platforms:
            spans.append(
                plain(" · " + "+".join(PLATFORM_NAMES.get(p, p) for p in person.platforms))
            )
        return spans

    # a seat held for someone (a timed offer) counts as going, as on the card, until it is
    # taken or passed on
    going = [p for p in result.people if p.status in ("confirmed", "offered")]
    if result.view.event.status == EventStatus.CANCELLED:  # one line says it all
        said = (
            t("It was cancelled: nobody is going. These had signed up.")
            if result.people
            else t("It was cancelled: nobody had signed up.")
        )
        card.add(italic(said))
    elif not result.people:
        card.add(t("Nobody has signed up yet."))
    elif not going:
        card.add(t("Nobody has a seat yet."))
    for number, person in enumerate(going, 1):
        held = (
            [italic(t(" · seat held for them, not taken yet"))]
            if person.status == "offered"
            else []
        )
        card.add(*line(number, person), *held)
    for status, heading in (("waitlisted", t("Waitlist")), ("maybe", t("Maybe"))):
        listed = [p for p in result.people if p.status == status]
        if listed:
            card.add(plain(""))
            card.add(bold(heading))
            for number, person in enumerate(listed, 1):
                card.add(*line(number, person))
    return card


def _handle_after_name(group: Group, space: str) -> str:
    """' (trail-runners)' after a group's name: how to type it, unless that is the name."""
    return "" if group.handle == group.name else f"{space}({group.handle})"


def group_card(summary: GroupSummary, t: Translator, *, short: bool = False) -> Card:
    group = summary.group
    card = Card()
    head = [bold(group.name), plain(_handle_after_name(group, "  "))]
    if group.visibility == Visibility.PRIVATE:
        head.append(plain(t(" 🔒 private")))
    card.add(*head)
    card.add(t.ngettext("{n} member", "{n} members", summary.member_count))
    if group.tags:
        card.add(plain(" ".join(f"#{tag}" for tag in group.tag_list)))
    if group.description and not short:
        card.add(plain(group.description))
    if summary.is_banned:  # no Join: it could only be refused
        card.add(italic(t("You're banned from this group.")))
    elif summary.is_member:
        card.add(italic(t("You're a member.")))
        card.row(
            Button(t("📝 Posts"), act(Act.GROUP_POSTS, group.id, 1)),  # type: ignore[arg-type]
            Button(t("📅 Activities"), act(Act.GROUP_EVENTS, group.id)),  # type: ignore[arg-type]
        )
        owner = summary.membership.role == Role.OWNER  # type: ignore[union-attr]
        if not short and not owner:  # an owner hands the group over first (/transfer)
            card.row(Button(t("Leave"), act(Act.LEAVE, group.id)))  # type: ignore[arg-type]
    elif summary.is_pending:
        card.add(italic(t("Your request to join is waiting for an admin.")))
    else:
        card.row(Button(t("➕ Join"), act(Act.JOIN, group.id)))  # type: ignore[arg-type]
    return card


def post_card(view: PostView, t: Translator, *, full: bool = False, live: bool = False) -> Card:
    """A post with its likes and replies. `live`: its posted copies are redrawn when those
    change (core.livecards); not for a card that carries more than the post (the replies)."""
    post = view.post
    body = post.body if full else snippet(post.body, PREVIEW_CHARS)
    card = Card()
    head = [bold(view.author_name), plain(f"  #{post.id} · "), plain(view.group.name)]
    if post.pinned:
        head.insert(0, plain("📌 "))
    if post.edited_at is not None:
        head.append(italic(t(" · edited")))
    card.add(*head)
    card.add(plain(body))
    buttons = [
        Button(("♥ " if view.liked_by_viewer else "♡ ") + str(view.likes), act(Act.LIKE, post.id)),  # type: ignore[arg-type]
        Button(t("💬 Replies ({n})", n=view.replies), act(Act.REPLIES, post.id)),  # type: ignore[arg-type]
    ]
    if view.viewer_is_admin:
        buttons.append(Button(t("📌 Unpin") if post.pinned else t("📌 Pin"), act(Act.PIN, post.id)))  # type: ignore[arg-type]
    if view.viewer_can_moderate:
        buttons.append(Button(t("🗑 Delete"), act(Act.DELETE_POST, post.id)))  # type: ignore[arg-type]
    card.row(*buttons)
    if not view.viewer_is_author:
        card.row(Button(t("⚠️ Report"), act(Act.REPORT_POST, post.id)))  # type: ignore[arg-type]
    if live:
        card.live = LiveCard(view.for_viewer, post_id=post.id)
    return card


def deleted_post_card(t: Translator) -> Card:
    """What the posted copies of a deleted post turn into: no text, no buttons."""
    return Card().add(italic(t("This post was deleted.")))


def post_page_cards(page: PostPage, t: Translator) -> list[Card]:
    group = page.group
    head = Card().add(
        bold(t("Posts in {group}", group=group.name)), plain(f"  {page.page}/{page.pages}")
    )
    if not page.posts:
        head.add(t("No posts yet. Write the first: /post {slug} <text>", slug=group.handle))
    # each post its own live copy, so a like, a reply, an edit or a deletion shows on every page
    # posted (a deleted post's text does not stay in a group chat); the page buttons below them
    cards = [head, *(post_card(view, t, live=True) for view in page.posts)]
    nav = []
    if page.page > 1:
        nav.append(Button(t("◀ Newer"), act(Act.GROUP_POSTS, group.id, page.page - 1)))  # type: ignore[arg-type]
    if page.page < page.pages:
        nav.append(Button(t("Older ▶"), act(Act.GROUP_POSTS, group.id, page.page + 1)))  # type: ignore[arg-type]
    if nav:
        cards.append(
            Card()
            .add(italic(t("Page {page} of {pages}", page=page.page, pages=page.pages)))
            .row(*nav)
        )
    return cards


def replies_card(view: PostView, replies: list[ReplyView], t: Translator) -> Card:
    card = post_card(view, t, full=True)
    card.add(plain(""))
    if not replies:
        card.add(italic(t("No replies yet.")))
    for item in replies:
        card.add(
            plain(f"[{item.comment.id}] "),
            bold(item.author_name),
            plain(": "),
            plain(item.comment.body),
        )
    card.add(plain(""))
    card.add(italic(t("Reply with /reply {id} <text>", id=view.post.id)))
    if replies:
        card.add(
            italic(t("Delete a reply of yours (admins: any) with /deletereply <its [number]>"))
        )
    return card


def usage(t: Translator, text: str, example: str) -> Card:
    return Card().add(plain(text)).add(plain(t("Example: ")), code(example))


def group_list_card(t: Translator, title: str, summaries: list[GroupSummary], verb: Act) -> Card:
    """Groups, one line each, with a button per group that does `verb` to it."""
    card = Card().add(bold(title))
    for summary in summaries:
        group = summary.group
        lock = " 🔒" if group.visibility == "private" else ""
        tags = " ".join(f"#{tag}" for tag in group.tag_list[:4])
        card.add(
            plain("• "),
            bold(group.name),
            plain(f"{_handle_after_name(group, ' ')}{lock} · "),
            plain(t.ngettext("{n} member", "{n} members", summary.member_count)),
            plain(f" {tags}" if tags else ""),
        )
        label = {Act.JOIN: "➕ ", Act.LEAVE: "🚪 "}.get(verb, "") + group.name
        card.row(Button(label, act(verb, group.id)))  # type: ignore[arg-type]
    return card


def reminder_card(
    event: Event, remaining: timedelta, timezone: str | None, t: Translator, *, maybe: bool = False
) -> Card:
    """The reminder: what, when in the person's own timezone, where (with the map), and a way
    to give the seat to the next person waiting. A `maybe` holds no seat to give: she may sign
    up, or stop the reminders she asked for. `remaining` is the real time left, which is
    less than the offset when the reminder goes out late."""
    soon = format_timedelta(remaining, locale=_BABEL_LOCALES.get(t.locale, "en"), threshold=1.0)
    card = (
        Card()
        .add(bold(t("⏰ Reminder: {title} starts in {soon}", title=event.title, soon=soon)))
        .add(
            plain("🕒 "),
            moment(format_time(event.starts_at, timezone or event.timezone, t), event.starts_at),
        )
        .add(plain("📍 "), plain(event.place))
    )
    if maybe:
        closed = event.signup_deadline is not None and event.signup_deadline < (
            event.starts_at - remaining
        )  # as event_card and sign_up read the deadline
        signup = [] if closed else [Button(t("✅ Sign up"), act(Act.SIGN_UP, event.id))]  # type: ignore[arg-type]
        card.row(*signup, Button(t("🔕 Stop reminders"), act(Act.NO_REMINDERS, event.id)))  # type: ignore[arg-type]
    else:
        card.row(Button(t("Can't come? Release my spot"), act(Act.RELEASE, event.id)))  # type: ignore[arg-type]
    if event.latitude is not None and event.longitude is not None:
        card.place = Place(event.latitude, event.longitude, event.title, event.place)
    return card

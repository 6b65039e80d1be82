"""Recurring activities (#15 item 2): a weekly series keeps its local time across DST changes;
counts and end dates end it; monthly by weekday; occurrences made ahead by the durable job,
each once; one occurrence or the whole series cancelled; series sign-up covers later ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from core.cards import Card
from core.livecards import CardRefresher
from core.models import Event, GroupChat, Registration
from core.recurring import SeriesWorker
from core.services import series
from tests.support import Chat, RecordingNotifier


async def _titles_and_times(chat: Chat, zone: str) -> list[str]:
    async with chat.services.db.uow(readonly=True) as uow:
        rows = (await uow.session.exec(select(Event).order_by(Event.starts_at))).all()
    return [
        e.starts_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %a") + f" {e.status}"
        for e in rows
    ]


async def _occurrence(chat: Chat, starts_at: datetime) -> int:
    async with chat.services.db.uow(readonly=True) as uow:
        found = await uow.session.exec(select(Event.id).where(Event.starts_at == starts_at))
        return found.one()


async def _group(chat: Chat, zone: str) -> None:
    await chat.say("maya", "/newgroup Runners")
    await chat.say("maya", f"/grouptimezone runners {zone}")


def _labels(card: Card) -> list[str]:
    return [button.label for row in card.buttons for button in row]


@dataclass
class EditingNotifier(RecordingNotifier):
    """Posts each card as a message it can edit later (a live card), and records the edits."""

    edits: list[tuple[str, str, Card]] = field(default_factory=list)

    async def post(self, chat_id: str, card: Card) -> str:
        self.posted.append((chat_id, card))
        return str(len(self.posted))

    async def edit(self, chat_id: str, message_id: str, card: Card) -> None:
        self.edits.append((chat_id, message_id, card))


async def test_a_weekly_series_keeps_its_local_time_across_dst(chat: Chat) -> None:
    chat.services.clock.set(datetime(2027, 3, 1, 12, 0, tzinfo=UTC))
    await _group(chat, "America/New_York")
    await chat.say("maya", "/newevent runners | Evening run | 2027-03-09 19:00 | Park")
    reply = await chat.say("maya", "/repeat 1 weekly times 4")
    assert reply.text == (
        "Activity #1 now repeats every week, 4 times in all; 2 more made ahead, the next ones "
        "follow as time passes."
    )
    assert await _titles_and_times(chat, "America/New_York") == [
        "2027-03-09 19:00 Tue scheduled",
        "2027-03-16 19:00 Tue scheduled",  # DST began on the 14th: still 19:00 local
        "2027-03-23 19:00 Tue scheduled",  # the 30th: past the four weeks ahead, made later
    ]
    async with chat.services.db.uow(readonly=True) as uow:
        rows = (await uow.session.exec(select(Event).order_by(Event.starts_at))).all()
    assert [e.starts_at.astimezone(UTC).hour for e in rows] == [0, 23, 23]  # UTC moved


async def test_an_end_date_and_the_job_making_more_as_time_passes(chat: Chat) -> None:
    clock = chat.services.clock
    clock.set(datetime(2027, 10, 1, 12, 0, tzinfo=UTC))
    await _group(chat, "Europe/Berlin")
    await chat.say("maya", "/newevent runners | Sunday run | 2027-10-03 09:00 | River")
    await chat.say("maya", "/repeat 1 weekly until 2027-11-30")
    made = await _titles_and_times(chat, "Europe/Berlin")
    assert made[0] == "2027-10-03 09:00 Sun scheduled"
    assert len(made) == 4  # four weeks ahead: 3, 10, 17 and 24 October

    worker = SeriesWorker(chat.services)
    clock.set(datetime(2027, 11, 20, 12, 0, tzinfo=UTC))
    assert await worker.run_due() == 1
    again = SeriesWorker(chat.services, worker="another-process")
    await again.run_due()  # nothing due now; and run by hand, makes nothing twice
    async with chat.services.db.uow() as uow:
        await series.extend(uow, clock, 1)
    made = await _titles_and_times(chat, "Europe/Berlin")
    assert "2027-10-31 09:00 Sun scheduled" in made  # the clocks went back that day: still 09:00
    assert made[-1] == "2027-11-28 09:00 Sun scheduled"  # the last before the end date
    assert len(made) == len(set(made)) == 9


async def test_monthly_by_weekday(chat: Chat) -> None:
    chat.services.clock.set(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    await _group(chat, "UTC")
    await chat.say("maya", "/newevent runners | Club night | 2027-01-09 18:00 | Hall")  # 2nd Sat
    await chat.say("maya", "/repeat 1 monthly-weekday times 3")
    assert await _titles_and_times(chat, "UTC") == [
        "2027-01-09 18:00 Sat scheduled",
        "2027-02-13 18:00 Sat scheduled",  # the next only: a month is past the horizon
    ]


async def test_cancel_one_or_the_series_and_sign_up_for_all(chat: Chat) -> None:
    clock = chat.services.clock
    clock.set(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    await _group(chat, "UTC")
    await chat.say("maya", "/newevent runners | Run | 2027-01-05 07:00 | Park | free | 1")
    await chat.say("maya", "/repeat 1 weekly times 10")
    card = (await chat.say("ann", "/event 2")).cards[-1]
    assert "🔁 Every time" in [b.label for row in card.buttons for b in row]

    joined = await chat.click("ann", "sj:2")
    assert "4 are coming, with a seat for you on each" in joined.text  # 5, 12, 19 and 26 January
    waits = await chat.say("bob", "/joinseries 1")  # the seats are Ann's: Bob waits on each
    assert "4 are coming, and you're on the waitlist of each" in waits.text

    await chat.say("maya", "/cancelevent 3")  # one occurrence
    clock.set(datetime(2027, 1, 20, 12, 0, tzinfo=UTC))
    await SeriesWorker(chat.services).run_due()  # makes the next ones, with Ann and Bob on them
    async with chat.services.db.uow(readonly=True) as uow:
        latest = (await uow.session.exec(select(Event).order_by(Event.starts_at.desc()))).first()
        on_latest = (
            await uow.session.exec(
                select(Registration.status).where(Registration.event_id == latest.id)
            )
        ).all()
    assert latest.starts_at > datetime(2027, 2, 10, tzinfo=UTC)
    assert sorted(on_latest) == ["confirmed", "waitlisted"]

    sent = chat.services.notifiers["test"] = RecordingNotifier()
    feb_2 = await _occurrence(chat, datetime(2027, 2, 2, 7, 0, tzinfo=UTC))
    await chat.say("maya", f"/cancelevent {feb_2}")  # a coming one, on its own: told of it
    assert len(sent.texts_to("ann")) == 1
    sent.sent.clear()
    reply = await chat.say("maya", "/cancelseries 1")
    assert "The series is cancelled" in reply.text
    times = await _titles_and_times(chat, "UTC")
    assert "2027-01-19 07:00 Tue cancelled" in times  # #3, cancelled on its own
    assert times[:2] == ["2027-01-05 07:00 Tue scheduled", "2027-01-12 07:00 Tue scheduled"]
    assert all(t.endswith("cancelled") for t in times if t > "2027-01-20")
    told = {who: card.text for who, card in sent.sent if card.text.startswith("Cancelled: Run")}
    assert sorted(told) == ["ann", "bob"] and len(sent.sent) == 2  # once each, for them all
    assert told["ann"].count("🕒") == 3  # the dates this cancelled, each named once
    assert "🕒 Tue, 26 Jan 2027, 07:00 (UTC)" in told["ann"]
    assert "2 Feb" not in told["ann"]  # told already, on its own
    assert "This series was cancelled" in (await chat.click("carl", "sj:2")).text
    assert "already repeats" in (await chat.say("maya", "/repeat 2 weekly")).text


async def test_a_new_place_for_a_series_is_told_once_with_each_date(chat: Chat) -> None:
    """/editseries moves each coming occurrence (four weeks of them); someone on all four
    rosters hears of it once, with their four dates, someone on one with that date."""
    clock = chat.services.clock
    clock.set(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    await _group(chat, "UTC")
    await chat.say("maya", "/newevent runners | Run | 2027-01-05 07:00 | Park")
    await chat.say("maya", "/repeat 1 weekly times 10")
    await chat.say("ann", "/joinseries 1")
    await chat.say("bob", "/signup 2")
    sent = chat.services.notifiers["test"] = RecordingNotifier()

    reply = await chat.say("maya", "/editseries 1 place Old bridge")
    assert reply.text == "4 coming occurrences updated."
    assert sorted(who for who, _ in sent.sent) == ["ann", "bob"]  # once each
    [news] = sent.texts_to("ann")
    assert news.startswith("Activity changed: Run\n📍 Old bridge")
    assert news.count("🕒") == 4 and "🕒 Tue, 5 Jan 2027, 07:00 (UTC)" in news
    [his] = sent.texts_to("bob")
    assert his.count("🕒") == 1 and "🕒 Tue, 12 Jan 2027, 07:00 (UTC)" in his
    await chat.settled()
    assert len(sent.sent) == 2  # told once
    sent.sent.clear()
    await chat.say("maya", "/editseries 1 fee 5 EUR")  # a new price is news too
    [news] = sent.texts_to("ann")
    assert "📍 Old bridge\n💶 5 EUR\n🕒" in news and news.count("🕒") == 4
    sent.sent.clear()
    await chat.say("maya", "/editevent 2 place Pool B")  # one date moved on its own...
    sent.sent.clear()
    await chat.say("maya", "/editseries 1 fee 6 EUR")  # ...keeps its own place in the news
    [news] = sent.texts_to("ann")
    assert "📍" not in news.splitlines()[1]  # no one place for every date
    assert "🕒 Tue, 12 Jan 2027, 07:00 (UTC) · 📍 Pool B" in news
    assert "🕒 Tue, 5 Jan 2027, 07:00 (UTC) · 📍 Old bridge" in news


async def test_an_occurrence_moved_and_then_its_series_cancelled_is_told_once(
    chat: Chat,
) -> None:
    """An occurrence's new time is not told yet (the process that moved it died right after)
    when the organiser cancels the whole series: Ann hears once that her dates are cancelled,
    the moved one among them, not also of the move or of that date's cancellation apart."""
    clock = chat.services.clock
    clock.set(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    await _group(chat, "UTC")
    await chat.say("maya", "/newevent runners | Run | 2027-01-05 07:00 | Park")
    await chat.say("maya", "/repeat 1 weekly times 3")
    await chat.say("ann", "/joinseries 1")
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    second = await _occurrence(chat, datetime(2027, 1, 12, 7, 0, tzinfo=UTC))

    await chat.unattended("maya", f"/editevent {second} time 2027-01-13 08:00")
    assert sent.sent == []  # its news still to be told
    await chat.say("maya", "/cancelseries 1")

    [told] = sent.texts_to("ann")
    assert told.startswith("Cancelled: Run") and told.count("🕒") == 3
    assert "🕒 Wed, 13 Jan 2027, 08:00 (UTC)" in told  # the moved date, as it stands
    await chat.settled()
    assert len(sent.sent) == 1


async def test_a_date_years_ahead_is_refused_and_one_within_reach_repeats(chat: Chat) -> None:
    """9999 for 2026 is a typo: refused when the activity is made or moved, with a word on
    why, not accepted and then "Something went wrong" at /repeat. A start near the limit still
    repeats, with an end far beyond it."""
    chat.services.clock.set(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    await _group(chat, "UTC")
    far = await chat.say("maya", "/newevent runners | Far | 9999-12-25 19:00 | Park")
    assert far.text == "⚠️ That time is too far ahead: pick one within 5 years."
    await chat.say("maya", "/newevent runners | Near | 2031-12-20 19:00 | Park")
    moved = await chat.say("maya", "/editevent 1 time 9999-12-25 19:00")
    assert moved.text == "⚠️ That time is too far ahead: pick one within 5 years."
    reply = await chat.say("maya", "/repeat 1 monthly until 9999-12-31")
    assert reply.text.startswith("Activity #1 now repeats")
    assert await _titles_and_times(chat, "UTC") == [
        "2031-12-20 19:00 Sat scheduled",
        "2032-01-20 19:00 Tue scheduled",
    ]


async def test_joining_a_series_twice_says_so_and_changes_nothing(chat: Chat) -> None:
    """A second /joinseries by someone already on every coming occurrence says they are signed
    up already (it said "a seat on 0 of the 2 coming ones"); seats taken before joining count
    as seats."""
    chat.services.clock.set(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    await _group(chat, "UTC")
    await chat.say("maya", "/newevent runners | Run | 2027-01-20 07:00 | Park")
    await chat.say("maya", "/repeat 1 monthly times 5")
    await chat.say("bob", "/signup 1")
    joined = await chat.say("bob", "/joinseries 1")
    assert (
        "2 are coming, with a seat for you on each" in joined.text
    )  # the one he had, and the next

    await chat.say("ann", "/joinseries 1")
    again = await chat.say("ann", "/joinseries 1")
    assert again.text == "You're already signed up for every occurrence of this series."
    tapped = await chat.click("ann", "sj:2")
    assert tapped.toast == "You're already signed up for every occurrence of this series."


async def test_a_cancelled_series_says_so_when_cancelled_or_changed_again(chat: Chat) -> None:
    chat.services.clock.set(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    await _group(chat, "UTC")
    await chat.say("maya", "/newevent runners | Run | 2027-01-05 07:00 | Park")
    await chat.say("maya", "/repeat 1 weekly times 3")
    await chat.say("maya", "/cancelseries 1")
    again = await chat.say("maya", "/cancelseries 1")
    assert again.text == "⚠️ This series was cancelled."
    edited = await chat.say("maya", "/editseries 1 place Old bridge")
    assert edited.text == "⚠️ This series was cancelled."


async def test_one_coming_occurrence_reads_as_one(chat: Chat) -> None:
    """ "1 coming occurrence updated.", not "1 coming occurrences updated."."""
    chat.services.clock.set(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    await _group(chat, "UTC")
    await chat.say("maya", "/newevent runners | Run | 2027-01-05 07:00 | Park")
    await chat.say("maya", "/repeat 1 weekly times 2")
    await chat.say("maya", "/cancelevent 2")  # one of the two, on its own
    edited = await chat.say("maya", "/editseries 1 place Old bridge")
    assert edited.text == "1 coming occurrence updated."
    cancelled = await chat.say("maya", "/cancelseries 1")
    assert (
        cancelled.text
        == "The series is cancelled: 1 coming occurrence, everyone signed up is told."
    )


async def test_an_end_it_cannot_read_is_quoted_as_typed(chat: Chat) -> None:
    chat.services.clock.set(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    await _group(chat, "UTC")
    await chat.say("maya", "/newevent runners | Run | 2027-01-05 07:00 | Park")
    reply = await chat.say("maya", "/repeat 1 weekly until banana")
    assert reply.text.startswith("⚠️ I can't read the time “banana”. Use YYYY-MM-DD HH:MM")
    reply = await chat.say("maya", "/repeat 1 weekly until banana split")
    assert reply.text.startswith("⚠️ I can't read the time “banana split”.")


async def test_repeat_says_in_words_how_the_series_goes(chat: Chat) -> None:
    """/repeat answers "every 2 weeks until 1 Feb 2027", not the rule calendars read
    ("FREQ=WEEKLY;INTERVAL=2;UNTIL=20270201T235900")."""
    chat.services.clock.set(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    await _group(chat, "UTC")
    for title in ("Run", "Swim", "Ride"):
        await chat.say("maya", f"/newevent runners | {title} | 2027-01-05 07:00 | Park")
    until = await chat.say("maya", "/repeat 1 biweekly until 2027-02-01")
    assert until.text == (
        "Activity #1 now repeats every 2 weeks until 1 Feb 2027; 1 more made ahead, the next "
        "ones follow as time passes."
    )
    at = await chat.say("maya", "/repeat 2 weekly until 2027-02-01 06:00")
    assert at.text.startswith("Activity #2 now repeats every week until 1 Feb 2027, 06:00;")
    endless = await chat.say("maya", "/repeat 3 monthly-weekday")
    assert endless.text.startswith("Activity #3 now repeats every month on the same weekday;")


async def test_a_monthly_series_on_the_31st_says_that_short_months_are_skipped(
    chat: Chat,
) -> None:
    chat.services.clock.set(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    await _group(chat, "UTC")
    await chat.say("maya", "/newevent runners | Run | 2027-01-31 19:00 | Park")
    reply = await chat.say("maya", "/repeat 1 monthly times 4")
    assert reply.text.endswith("Months with no day 31 are skipped.")
    made = await chat.say("maya", "/newevent runners | Ride | 2027-01-20 19:00 | Park")
    ride = made.text.split("#")[1].split(" ")[0]
    plain = await chat.say("maya", f"/repeat {ride} monthly times 4")
    assert "now repeats every month" in plain.text and "skipped" not in plain.text


async def test_a_cancelled_or_started_activity_does_not_repeat(chat: Chat) -> None:
    """/repeat of a cancelled activity made live occurrences people signed up for (🔁 Every
    time put them on all of them); of a started one, occurrences already past."""
    clock = chat.services.clock
    clock.set(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    await _group(chat, "UTC")
    await chat.say("maya", "/newevent runners | Run | 2027-01-05 07:00 | Park")
    await chat.say("maya", "/newevent runners | Swim | 2027-01-02 07:00 | Pool")
    await chat.say("maya", "/cancelevent 1")
    cancelled = await chat.say("maya", "/repeat 1 weekly")
    assert cancelled.text == "⚠️ This activity was cancelled."
    clock.set(datetime(2027, 1, 2, 8, 0, tzinfo=UTC))  # the swim started an hour ago
    started = await chat.say("maya", "/repeat 2 weekly times 4")
    assert started.text == (
        "⚠️ This activity has already started: repeat a coming one (/newevent makes it)."
    )
    assert await _titles_and_times(chat, "UTC") == [
        "2027-01-02 07:00 Sat scheduled",
        "2027-01-05 07:00 Tue cancelled",
    ]
    assert (await chat.say("ann", "/joinseries 1")).text == "⚠️ This activity does not repeat."


async def test_repeat_redraws_the_posted_cards_and_announces_each_occurrence(
    chat: Chat,
) -> None:
    """After /repeat the group chat's card of the activity still had no 🔁 Every time (only a
    fresh /event showed it), and the occurrences were never announced there."""
    clock = chat.services.clock
    clock.set(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    sent = chat.services.notifiers["test"] = EditingNotifier()
    await _group(chat, "UTC")
    async with chat.services.db.uow() as uow:
        uow.session.add(GroupChat(group_id=1, platform="test", chat_id="runners", locale="en"))
        await uow.commit()
    await chat.say("maya", "/newevent runners | Run | 2027-01-05 07:00 | Park")
    [(_, announced)] = sent.posted
    assert "🔁 Every time" not in _labels(announced)
    refresher = CardRefresher(chat.services)
    await refresher.run_due()  # the copy just recorded is looked at once: it is as drawn
    assert sent.edits == []

    await chat.say("maya", "/repeat 1 weekly times 10")
    await refresher.run_due()
    [(where, message, redrawn)] = sent.edits
    assert (where, message) == ("runners", "1") and "🔁 Every time" in _labels(redrawn)
    made = [card.text.splitlines()[0] for _, card in sent.posted[1:]]
    assert made == ["Run  #2", "Run  #3", "Run  #4"]  # 12, 19 and 26 January, each announced
    assert all("🔁 Every time" in _labels(card) for _, card in sent.posted[1:])

    clock.advance(timedelta(days=7))
    await SeriesWorker(chat.services).run_due()  # the job makes 2 February: announced too
    await chat.settled()
    assert [card.text.splitlines()[0] for _, card in sent.posted[4:]] == ["Run  #5"]


async def test_an_end_is_a_count_or_a_date_not_both(chat: Chat) -> None:
    """ "times 3 until 2027-01-01" made a series of 3 and dropped the date unsaid; words after
    the end were dropped likewise."""
    chat.services.clock.set(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    await _group(chat, "UTC")
    await chat.say("maya", "/newevent runners | Run | 2026-12-05 07:00 | Park")
    both = await chat.say("maya", "/repeat 1 weekly times 3 until 2027-01-01")
    assert both.text.startswith("A series ends after some times or on a date, not both: give one.")
    reversed_ = await chat.say("maya", "/repeat 1 weekly until 2027-01-01 times 3")
    assert reversed_.text == both.text
    extra = await chat.say("maya", "/repeat 1 weekly times 3 4")
    assert extra.text.startswith("End a series with times <n> or until <date>, or give no end.")
    assert len(await _titles_and_times(chat, "UTC")) == 1  # nothing repeats yet
    reply = await chat.say("maya", "/repeat 1 weekly times 3")
    assert "3 times in all" in reply.text


async def test_editseries_lists_the_fields_it_changes(chat: Chat) -> None:
    chat.services.clock.set(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    await _group(chat, "UTC")
    await chat.say("maya", "/newevent runners | Run | 2027-01-05 07:00 | Park")
    await chat.say("maya", "/repeat 1 weekly times 3")
    reply = await chat.say("maya", "/editseries 1 garbage x")
    assert reply.text.startswith(
        "Say what to change on every coming occurrence: title, place, fee, capacity, "
        "description, reminders, guests or offers."
    )
    assert "Example: /editseries 3 place Old bridge" in reply.text

"""What reaches someone later speaks the language the bot answers them in: a person who never
chose one (/settings language) gets their app's language in notices and reminders too, as in
answers; a language of their own wins; and the app's language changing is followed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from core.chat import Services
from core.chat.identity import context_for
from core.clock import FrozenClock
from core.db import Database
from core.i18n import Translator
from core.models import Person
from core.offers import OfferWorker
from core.scheduler import ReminderRunner
from tests.support import START, Chat, RecordingNotifier

STARTS = START + timedelta(days=3)  # the activity below
ZH, EN = Translator("zh"), Translator("en")
SEAT = "Good news: a seat opened up and you're in!"
CHANGED = "Activity changed: "
CANCELLED = "Cancelled: "


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    services.notifiers["test"] = RecordingNotifier()
    return services.notifiers["test"]  # type: ignore[return-value]


async def _full_activity(chat: Chat, li_locale: str | None = "zh-hans") -> None:
    """Ridge, one seat: Ana has it, Li (whose app reports `li_locale`) waits."""
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-11-24 12:00 | Trailhead | free | 1")
    await chat.click("ana", "su:1")
    await chat.say("li", "/signup 1", locale=li_locale)


def _firsts(notifier: RecordingNotifier, who: str) -> list[str]:
    return [text.splitlines()[0] for text in notifier.texts_to(who)]


async def test_the_apps_language_reaches_notices_and_reminders(
    chat: Chat, services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    await _full_activity(chat)
    await chat.click("ana", "cx:1")  # Li moves up
    assert _firsts(notifier, "li") == [ZH(SEAT)]
    notifier.sent.clear()

    await chat.say("maya", "/editevent 1 place Summit")
    assert _firsts(notifier, "li") == [ZH(CHANGED) + "Ridge"]
    notifier.sent.clear()

    clock.set(STARTS - timedelta(hours=24))
    assert await ReminderRunner(services).run_due() == 1
    reminded = ZH("⏰ Reminder: {title} starts in {soon}", title="Ridge", soon="1天")
    assert _firsts(notifier, "li") == [reminded]
    notifier.sent.clear()

    await chat.say("maya", "/cancelevent 1")
    assert _firsts(notifier, "li") == [ZH(CANCELLED) + "Ridge"]


async def test_a_seat_held_for_them_is_offered_in_the_apps_language(
    chat: Chat, services: Services, notifier: RecordingNotifier
) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-11-24 12:00 | Trailhead | free | 1")
    await chat.say("maya", "/editevent 1 offers 2h")
    await chat.click("ana", "su:1")
    await chat.say("li", "/signup 1", locale="zh-CN")
    await chat.click("ana", "cx:1")
    assert await OfferWorker(services).run_due() == 1
    [offer] = notifier.texts_to("li")
    assert offer.startswith(ZH("🎟 A seat opened up for you: ") + "Ridge")


async def test_a_language_of_ones_own_wins_over_the_apps(
    chat: Chat, notifier: RecordingNotifier
) -> None:
    await _full_activity(chat)
    saved = await chat.say("li", "/settings language en", locale="zh-hans")
    assert saved.text == "Language saved: en"
    assert "Hi li!" in (await chat.say("li", "/start", locale="zh-hans")).text
    await chat.click("ana", "cx:1")
    assert _firsts(notifier, "li") == [SEAT]

    auto = await chat.say("li", "/settings language auto", locale="zh-hans")
    assert auto.text == ZH("Language saved: {value}", value="auto (zh)")
    shown = await chat.say("li", "/settings")
    assert ZH("Language: ") + "auto (zh)" in shown.text
    notifier.sent.clear()
    await chat.say("maya", "/editevent 1 place Summit")
    assert _firsts(notifier, "li") == [ZH(CHANGED) + "Ridge"]


async def test_the_apps_language_changing_is_followed(
    chat: Chat, notifier: RecordingNotifier
) -> None:
    await _full_activity(chat)
    await chat.say("li", "/help", locale="en-US")  # Li's app now speaks English
    await chat.click("ana", "cx:1")
    assert _firsts(notifier, "li") == [SEAT]
    notifier.sent.clear()
    await chat.say("li", "/help", locale="zh-CN")  # and Chinese again
    await chat.say("maya", "/editevent 1 place Summit")
    assert _firsts(notifier, "li") == [ZH(CHANGED) + "Ridge"]


async def test_an_update_without_a_language_keeps_the_one_reported_before(
    chat: Chat, notifier: RecordingNotifier
) -> None:
    await chat.say("li", "/start", locale="zh-hans")
    assert "你好，li！" in (await chat.say("li", "/start")).text  # no language_code this time


async def test_the_language_is_written_only_when_it_changes(services: Services) -> None:
    """The app's language is on every update: it costs a write only when it differs."""

    async def update(locale: str) -> str:
        ctx = await context_for(
            services, platform="test", external_id="li", display_name="Li", platform_locale=locale
        )
        return ctx.actor.locale

    writes = _writes(services.db)
    assert await update("zh-hans") == "zh"  # a new person
    assert await update("zh-CN") == "zh"
    services.clock.advance(services.actors.ttl + timedelta(seconds=1))  # type: ignore[attr-defined]
    assert await update("zh-hans") == "zh"  # looked up again, nothing to write
    assert writes == [1]
    assert await update("en-GB") == "en"
    assert await update("fr") == "en"  # a language we do not ship: the default, as answers
    assert writes == [2]
    assert await update("zh") == "zh"
    assert writes == [3]
    async with services.db.uow(readonly=True) as uow:
        [person] = (await uow.session.exec(Person.__table__.select())).all()  # type: ignore[attr-defined]
    assert (person.locale, person.platform_locale) == (None, "zh")


def _writes(db: Database) -> list[int]:
    """Counts the transactions that wrote to `db` from now on."""
    wrote = [0]

    @event.listens_for(db.engine.sync_engine, "commit")
    def count(_connection) -> None:  # type: ignore[no-untyped-def]
        wrote[0] += 1

    return wrote

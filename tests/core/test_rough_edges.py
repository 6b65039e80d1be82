"""The rough edges found by trying the bot as a new user would (issue #12), each with the input
that broke it."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from core.actions import encode
from core.models import Post
from core.services import people
from tests.support import Chat


def _buttons(reply) -> list[str]:
    return [button.label for card in reply.cards for row in card.buttons for button in row]


async def test_a_post_may_contain_pipes(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Book Club")
    reply = await chat.say("maya", "/post book-club Hello | pipes & stuff")
    assert "Posted." in reply.text
    assert "Hello | pipes & stuff" in reply.text
    await chat.say("maya", "/newgroup Trail Runners")
    many_words = await chat.say("maya", "/post Trail Runners | Hi all")
    assert "Posted." in many_words.text and "Hi all" in many_words.text


async def test_a_post_in_a_group_of_several_words_keeps_its_text_whole(chat: Chat) -> None:
    """'/post book club Hello' found "Book club" by its first word and posted "club Hello"."""
    await chat.say("maya", "/newgroup Book club")
    await chat.say("maya", "/newgroup Book")  # a shorter name that is a group too
    reply = await chat.say("maya", "/post book club Hello readers\nSecond line")
    assert "Book club" in reply.text and "Hello readers\nSecond line" in reply.text
    assert "club Hello" not in reply.text
    chinese = await chat.say("maya", "/newgroup 周末 徒步")
    assert "周末 徒步" in chinese.text
    reply = await chat.say("maya", "/post 周末 徒步 周六见")
    assert "周末 徒步" in reply.text and "\n周六见" in reply.text
    umlaut = await chat.say("maya", "/newgroup Über Wandern")
    assert "Über Wandern" in (await chat.say("ann", "/join über")).text  # a word of its name
    assert "Über Wandern" in umlaut.text
    reply = await chat.say("maya", "/post über wandern Hallo")  # SQLite's lower() folds ASCII only
    assert "Über Wandern\nHallo" in reply.text
    first_word = await chat.say("maya", "/post book Only the first word")
    assert "#4 · Book\nOnly the first word" in first_word.text
    missing = await chat.say("maya", "/post book club")  # the group, and no text
    assert "Write your post after the group's name." in missing.text
    assert "/post book-club The ridge trail" in missing.text
    nothing = await chat.say("maya", "/post")
    assert "Name the group, then write your post." in nothing.text
    async with chat.services.db.uow(readonly=True) as uow:
        texts = (await uow.session.exec(select(Post.body).order_by(Post.id))).all()
    assert texts[-4:] == ["Hello readers\nSecond line", "周六见", "Hallo", "Only the first word"]


async def test_a_one_letter_group_name_says_how_long_it_must_be(chat: Chat) -> None:
    reply = await chat.say("maya", "/newgroup x")
    assert "too short: at least 2 characters" in reply.text
    assert "can't be empty" not in reply.text


async def test_join_finds_a_group_by_a_word_of_its_name(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Chess Club")
    joined = await chat.say("ann", "/join chess")
    assert "Chess Club" in joined.text and "Welcome" in (joined.toast or joined.text)


async def test_join_offers_the_candidates_when_several_match(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Chess Club")
    await chat.say("maya", "/newgroup Chess Masters")
    reply = await chat.say("ann", "/join chess")
    assert "Several groups match “chess”" in reply.text
    assert sorted(_buttons(reply)) == ["➕ Chess Club", "➕ Chess Masters"]
    nothing = await chat.say("ann", "/join quidditch")
    assert "No group called “quidditch”" in nothing.text


async def test_setlocation_takes_any_precision_and_map_links(chat: Chat) -> None:
    for text in (
        "52.52, 13.4",
        "https://www.openstreetmap.org/?mlat=52.52000&mlon=13.40000#map=15/52.52/13.40",
        "https://www.openstreetmap.org/#map=15/52.5200/13.4050",
        "https://www.google.com/maps/@52.52,13.405,15z",
        "https://maps.google.com/?q=52.52,13.4",
        "https://maps.apple.com/?ll=52.52,13.4&q=Berlin",
        "geo:52.52,13.4;u=35",
    ):
        reply = await chat.say("ann", f"/setlocation {text}")
        assert "Send coordinates like" not in reply.text, (text, reply.text)
    off = await chat.say("ann", "/setlocation 152.5, 13.4")
    assert "off the map" in off.text


async def test_a_time_in_the_dst_gap_is_refused_with_the_nearest_times(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/grouptimezone hiking America/New_York")
    reply = await chat.say(
        "maya", "/newevent hiking | Night walk | 2027-03-14 02:30 | Trailhead", locale="en"
    )
    assert "does not exist in America/New_York" in reply.text
    assert "Try 01:59 or 03:00" in reply.text
    assert "created" not in reply.text


async def test_an_admin_changes_the_groups_timezone(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead")
    changed = await chat.say("maya", "/grouptimezone hiking Europe/Berlin")
    assert "now in Europe/Berlin" in changed.text
    kept = await chat.say("maya", "/event 1")
    assert "07:30 (UTC)" in kept.text  # an activity already planned keeps its time and zone
    await chat.say("maya", "/newevent hiking | Lake | 2026-12-07 07:30 | Lakeside")
    assert "07:30 (Europe/Berlin)" in (await chat.say("maya", "/event 2")).text
    refused = await chat.say("ann", "/grouptimezone hiking Asia/Tokyo")
    assert "admin" in refused.text.lower()
    bad = await chat.say("maya", "/grouptimezone hiking Mars/Olympus")
    assert "Mars/Olympus" in bad.text and "now in" not in bad.text


async def test_a_personal_card_shows_the_readers_time_too(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")  # the group's zone: UTC
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead")
    await chat.say("ann", "/settings timezone America/New_York")
    shown = await chat.say("ann", "/event 1")
    assert "07:30 (UTC)" in shown.text
    assert "your time: Sun, 6 Dec 2026, 02:30 (America/New_York)" in shown.text
    same = await chat.say("maya", "/event 1")
    assert "your time" not in same.text  # the same zone: once is enough
    mine = "your time: Sun, 6 Dec 2026, 02:30 (America/New_York)"
    assert mine in (await chat.say("ann", "/events")).text  # lists too, not the card alone
    await chat.say("ann", "/signup 1")
    assert mine in (await chat.say("ann", "/myevents")).text
    assert "your time" not in (await chat.say("maya", "/events")).text


async def test_a_chosen_name_outlives_the_platform_name(chat: Chat) -> None:
    """/settings name sticks: the platform's display name (sent with every message) no longer
    replaces it; someone who never chose one follows the platform's name."""
    await chat.say("bob", "/settings name Robert")
    await chat.say("bob", "/help")  # the platform still calls him "bob"
    async with chat.services.db.uow(readonly=True) as uow:
        person = await people.get_person(uow, await chat.person_id("bob"))
    assert person.display_name == "Robert"


async def test_admin_commands_find_a_group_of_several_words_by_its_whole_name(chat: Chat) -> None:
    """'/ban book club troll' looked for a person "club troll" in a group found by "book"."""
    await chat.say("maya", "/newgroup Book club")
    await chat.say("ann", "/newgroup Book")  # not maya's: a command that lands there is refused
    for who in ("ann", "troll"):
        await chat.say(who, "/join book club")
    promoted = await chat.say("maya", "/promote book club ann")
    assert promoted.text == "ann is now an admin of Book club."
    banned = await chat.say("maya", "/ban book club troll")
    assert banned.text == "troll is banned from Book club."
    zone = await chat.say("maya", "/grouptimezone book club Europe/Paris")
    assert "Book club" in zone.text and "Europe/Paris" in zone.text
    allowed = await chat.say("maya", "/memberevents book club on")
    assert allowed.text == "Members of Book club can now create activities."
    shows = await chat.say("maya", "/noshows book club")
    assert (
        shows.text
        == "No-shows in checked-in activities\nNo activity of this group was checked in yet."
    )

    unknown = await chat.say("maya", "/ban chess club troll")
    assert unknown.text.startswith("⚠️ No group called “chess”")


async def test_cancel_with_a_number_that_is_no_number_says_nothing_to_cancel(chat: Chat) -> None:
    assert (await chat.say("ann", "/cancel ²")).text == "Nothing to cancel."


async def test_full_width_bars_separate_fields_as_chinese_keyboards_type_them(
    chat: Chat,
) -> None:
    """A Chinese keyboard types "｜" where an English one types "|": /newevent answered only
    its usage text."""
    await chat.say("maya", "/newgroup 读书会", locale="zh")
    made = await chat.say(
        "maya", "/newevent 读书会｜共读｜2026-12-20 19:00｜图书馆｜免费｜8", locale="zh"
    )
    assert "共读" in made.text and "图书馆" in made.text and "0/8" in made.text
    await chat.say("maya", "/newgroup Trail Runners")
    reply = await chat.say("maya", "/post Trail Runners｜Hi all, a | stays")
    assert "Trail Runners\nHi all, a | stays" in reply.text


async def test_events_pages_on_where_one_message_ends(chat: Chat) -> None:
    """Fourteen coming activities: /events showed the first ten and said nothing of the rest."""
    await chat.say("maya", "/newgroup Book club")
    for day in range(1, 15):
        await chat.say(
            "maya", f"/newevent book club | Read {day} | 2026-12-{day:02d} 19:00 | Library"
        )
    first = await chat.say("ann", "/events book club")
    assert first.text.count("📍 Library") == 10 and "Read 10" in first.text
    [more] = [b for b in first.cards[0].buttons[-1] if b.label == "More ▶"]
    second = await chat.click("ann", encode(more.action))
    assert second.text.startswith("Upcoming activities, page 2")
    assert second.text.count("📍 Library") == 4 and "Read 14" in second.text
    assert "More ▶" not in _buttons(second)
    everywhere = await chat.say("ann", "/events")
    [more] = [b for b in everywhere.cards[0].buttons[-1] if b.label == "More ▶"]
    assert encode(more.action) == "el:0:2"
    assert (await chat.click("ann", "el:0:3")).text == "No more upcoming activities."


async def test_groups_says_when_some_are_left_out(chat: Chat) -> None:
    for n in range(1, 23):
        await chat.say("maya", f"/newgroup Club {n}")
    listed = await chat.say("ann", "/groups")
    assert len(_buttons(listed)) == 20
    assert "The 20 biggest are shown. Add words to find others" in listed.text
    few = await chat.say("ann", "/groups club 2")
    assert "biggest are shown" not in few.text


async def test_the_newevent_example_can_be_copied_as_it_is(chat: Chat) -> None:
    """The example carried a fixed date, long past by now: copied, it was refused."""
    await chat.say("maya", "/newgroup Hiking")
    chat.services.clock.advance(timedelta(days=400))
    shown = await chat.say("maya", "/newevent")
    [example] = [line for line in shown.text.splitlines() if "/newevent hiking |" in line]
    copied = example[example.index("/newevent") :]
    assert "created" in (await chat.say("maya", copied)).text
    edit = await chat.say("maya", "/editevent 1")
    [example] = [line for line in edit.text.splitlines() if "/editevent 3 time" in line]
    moved = example[example.index("/editevent") :].replace(" 3 ", " 1 ")
    assert "updated" in (await chat.say("maya", moved)).text


async def test_editing_a_setting_the_card_does_not_show_says_how_it_stands(chat: Chat) -> None:
    """/editevent 1 offers 2h answered "Activity #1 updated." and nothing showed the window."""
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-11-28 09:00 | Trailhead | free | 5")
    held = await chat.say("maya", "/editevent 1 offers 2h")
    assert "A freed seat is held 2h for the next in line to accept." in held.text
    straight = await chat.say("maya", "/editevent 1 offers off")
    assert "A freed seat goes straight to the next in line." in straight.text
    reminded = await chat.say("maya", "/editevent 1 reminders 1d,2h")
    assert "Reminders go out 1d, 2h before the start." in reminded.text
    none = await chat.say("maya", "/editevent 1 reminders none")
    assert "No reminders for this activity." in none.text


async def test_a_reminder_whose_time_has_passed_is_said_to_be_never_sent(chat: Chat) -> None:
    """Reminders set after their time were neither sent nor logged, and the answer listed them
    as if they would go out: the organiser is told which ones are past already."""
    await chat.say("maya", "/newgroup Hiking")  # the clock stands at 2026-11-21 12:00 UTC
    await chat.say("maya", "/newevent hiking | Ridge | 2026-11-23 09:00 | Trailhead | free | 5")
    late = await chat.say("maya", "/editevent 1 reminders 3d,2d,1d,2h")
    assert "Reminders go out 3d, 2d, 1d, 2h before the start." in late.text
    assert "Already past, so never sent: 3d, 2d before." in late.text
    timely = await chat.say("maya", "/editevent 1 reminders 1d,2h")
    assert "Already past" not in timely.text

    # a number too big to be an activity's: no button to cancel a sign-up it cannot name
    huge = await chat.say("ann", "/cancel 99999999999999999999999")
    assert "No activity #99999999999999999999999" in huge.text and not _buttons(huge)


async def test_a_command_without_its_group_asks_for_it_without_naming_another_command(
    chat: Chat,
) -> None:
    """/requests and /group without a group answered "e.g. /join hiking"."""
    asked = await chat.say("maya", "/group")
    assert asked.text == "⚠️ Which group? Add its name to the command (/groups lists them)."
    offered = await chat.say("maya", "/requests")  # the groups where requests wait, to pick
    assert offered.text == "No join requests wait in the groups you run."


async def test_a_new_group_name_that_clashes_says_with_what(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    clash = await chat.say("maya", "/newgroup hiking 💥")
    assert clash.text == (
        "⚠️ “hiking 💥” would be typed “hiking”, as the group Hiking is: pick another name."
    )
    same = await chat.say("maya", "/newgroup HIKING")
    assert same.text == "⚠️ There is already a group called “HIKING”."
    number = await chat.say("maya", "/newgroup #1")
    assert number.text == "⚠️ A group's name can't be just a number: “#1” reads as group #1."


async def test_settings_says_when_nothing_changed_and_clears_a_timezone(chat: Chat) -> None:
    """'/settings discoverable maybe', '/settings timezone' or '/settings nonsense' showed the
    settings as if done; a timezone once set could not be cleared."""
    maybe = await chat.say("ann", "/settings discoverable maybe")
    assert maybe.text.startswith(
        "⚠️ Nothing changed: say what to set it to, e.g. /settings discoverable on"
    )
    assert "Discoverable in /companions: off" in maybe.text
    bare = await chat.say("ann", "/settings timezone")
    assert bare.text.startswith("⚠️ Nothing changed: say what to set it to, e.g. /settings tim")
    nonsense = await chat.say("ann", "/settings nonsense")
    assert nonsense.text.startswith("⚠️ Nothing changed: “nonsense” is not a setting")
    assert (await chat.say("ann", "/settings")).text.startswith("Your settings")
    await chat.say("ann", "/settings timezone Asia/Shanghai")
    cleared = await chat.say("ann", "/settings timezone none")
    assert cleared.text == "Timezone cleared: times show in each activity's own."
    assert "not set" in (await chat.say("ann", "/settings")).text


async def test_an_edit_without_its_value_changes_nothing(chat: Chat) -> None:
    """'/editevent 1 capacity' made the activity unlimited (and seated the whole waitlist):
    an empty value read as "none"."""
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-11-28 09:00 | Trailhead | 10 EUR | 1")
    await chat.say("ann", "/signup 1")
    await chat.say("bob", "/signup 1")  # waits
    for typed in ("/editevent 1 capacity", "/editevent 1 fee "):
        reply = await chat.say("maya", typed)
        assert reply.text.startswith("Nothing changed: say the new "), typed
    card = await chat.say("maya", "/event 1")
    assert "1/1 going, 1 on the waitlist" in card.text and "10 EUR" in card.text
    await chat.say("maya", "/repeat 1 weekly times 3")
    series = await chat.say("maya", "/editseries 1 capacity")
    assert series.text.startswith("Nothing changed: say the new capacity after it")


async def test_an_edit_without_its_value_shows_that_field_and_none_only_where_it_clears(
    chat: Chat,
) -> None:
    """'/editevent 1 title' said "none clears it. Example: /editevent 1 capacity 20", and
    "none" then became the title."""
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-11-28 09:00 | Trailhead | free | 5")
    title = await chat.say("maya", "/editevent 1 title")
    assert title.text == (
        "Nothing changed: say the new title after it.\nExample: /editevent 1 title Sunrise hike"
    )
    fee = await chat.say("maya", "/editevent 1 fee")
    assert fee.text == (
        "Nothing changed: say the new fee after it; none clears it.\n"
        "Example: /editevent 1 fee 10 EUR"
    )
    place = await chat.say("maya", "/editevent 1 place")
    assert "none" not in place.text and place.text.endswith("/editevent 1 place Trailhead")
    reminders = await chat.say("maya", "/editevent 1 reminders")
    assert reminders.text.endswith("none clears it.\nExample: /editevent 1 reminders 24h,1h")
    await chat.say("maya", "/repeat 1 weekly times 3")
    series = await chat.say("maya", "/editseries 1 place")
    assert series.text.endswith("after it.\nExample: /editseries 1 place Trailhead")


async def test_cancel_with_a_number_offers_the_tap_only_for_a_sign_up_held(chat: Chat) -> None:
    """ "/cancel 999" offered "Cancel my sign-up" for an activity that does not exist, and
    "/cancel 1" for one the person had not signed up for; the tap then said there was none."""
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-11-28 09:00 | Trailhead | free | 5")
    await chat.say("ann", "/join hiking")
    missing = await chat.say("ann", "/cancel 999")
    assert "No activity #999." in missing.text and not _buttons(missing)
    none = await chat.say("ann", "/cancel 1")
    assert "You have no sign-up for activity #1 to cancel." in none.text
    assert not _buttons(none)
    await chat.say("ann", "/signup 1")
    held = await chat.say("ann", "/cancel 1")
    assert "send /unsignup 1 or tap below" in held.text
    assert _buttons(held) == ["❌ Cancel my sign-up"]


async def test_a_name_with_letters_accents_do_not_make_has_a_slug(chat: Chat) -> None:
    """'Straße' and 'Bjørn' had no slug: their invite links and /join typed in ASCII found
    nothing."""
    await chat.say("maya", "/newgroup Straße Läufer")
    await chat.say("maya", "/newgroup Bjørn Trail")
    assert "Straße Läufer" in (await chat.say("ann", "/join strasse-laufer")).text
    assert "Bjørn Trail" in (await chat.say("bob", "/join bjorn-trail")).text
    mine = await chat.say("ann", "/group strasse-laufer")
    assert "Straße Läufer" in mine.text


async def test_a_join_request_is_not_listed_as_a_group_of_ones_own(chat: Chat) -> None:
    """Dave asked to join a private group: /mygroups listed it as his (then /posts refused it);
    it says he waits for approval instead, and /posts' pick list leaves it out."""
    await chat.say("maya", "/newgroup Secret Club | members only | | private")
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("dave", "/join secret club")
    alone = await chat.say("dave", "/mygroups")
    assert "You're not in any group yet." in alone.text
    assert "Waiting for approval: Secret Club" in alone.text
    assert not _buttons(alone)
    await chat.say("dave", "/join hiking")
    mine = await chat.say("dave", "/mygroups")
    assert "Your groups\n• Hiking" in mine.text and "Waiting for approval: Secret Club" in mine.text
    assert _buttons(mine) == ["Hiking"]
    assert _buttons(await chat.say("dave", "/posts")) == ["Hiking"]
    assert "🚪 Secret Club" in _buttons(await chat.say("dave", "/leave"))  # withdraws the request


async def test_settings_show_the_reminders_that_apply(chat: Chat) -> None:
    """After `/settings reminders on` (the activity's own), /settings showed REMINDER_OFFSETS."""
    await chat.say("maya", "/settings reminders 2h")
    saved = await chat.say("maya", "/settings reminders on")
    assert saved.text == "Reminders saved: the activity's own"
    assert "Reminders: the activity's own" in (await chat.say("maya", "/settings")).text


async def test_several_settings_in_one_command_all_or_none(chat: Chat) -> None:
    """/help shows `/settings [language …] [timezone …] [reminders …]`: several at once work
    (they failed: "zh timezone Europe/Berlin" is no language); one bad value changes none."""
    bad = await chat.say("maya", "/settings timezone Europe/Berlin reminders soon")
    assert "Say on, off, or times before the activity" in bad.text
    shown = (await chat.say("maya", "/settings")).text
    assert "Timezone: not set" in shown
    both = await chat.say("maya", "/settings timezone Europe/Berlin reminders 2h, 30m name Maya Li")
    assert both.text.splitlines() == [
        "Timezone saved: Europe/Berlin",
        "Reminders saved: 2h,30m",
        "Name saved: Maya Li",
    ]
    shown = (await chat.say("maya", "/settings")).text
    assert "Timezone: Europe/Berlin" in shown and "Reminders: 2h,30m" in shown
    assert "Name: Maya Li" in shown
    missing = await chat.say("maya", "/settings language tz Asia/Shanghai")
    assert "Nothing changed: say what to set it to, e.g. /settings language zh" in missing.text

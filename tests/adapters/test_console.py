"""The console, used the way a newcomer uses it: typed lines in, printed text out."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from adapters.console.chat import ConsoleChat, ConsoleNotifier
from core.chat import Services
from core.models import Registration
from core.notices import NoticeWorker
from core.offers import OfferWorker
from core.services import events, groups, people
from core.services.events import EventDraft
from core.work import Worker

BOT = Path(sys.executable).with_name("community-bot")


async def _hiking_with_two_seats(services: Services) -> None:
    db, clock = services.db, services.clock
    async with db.uow() as uow:
        maya = await people.resolve_actor(
            uow, clock, platform="console", external_id="maya", display_name="Maya"
        )
    async with db.uow() as uow:
        await groups.create_group(
            uow, clock, maya.person_id, name="Hiking", description="Weekend hikes"
        )
    async with db.uow() as uow:
        await events.create_event(
            uow,
            clock,
            maya.person_id,
            "hiking",
            EventDraft("Ridge walk", clock.now() + timedelta(days=3), "Trailhead", capacity=2),
        )


async def _run(services: Services, script: str, workers: Sequence[Worker] = ()) -> list[str]:
    """`workers`: started here and handed to the console, as `community-bot run` does."""
    out = io.StringIO()
    services.notifiers["console"] = ConsoleNotifier(out)
    notices = NoticeWorker(services)  # as `community-bot run` runs it beside the console
    await notices.start()
    for worker in workers:
        await worker.start()
    try:
        chat = ConsoleChat(services, inp=io.StringIO(script), out=out, workers=list(workers))
        await chat.run()
    finally:
        await services.settle()
        await notices.tick()
        await notices.stop()
    return out.getvalue().splitlines()


PROMPT = re.compile(r"^\w+> ")


def _after(lines: list[str], typed: str) -> list[str]:
    """The non-blank lines printed in answer to one typed line (up to the next prompt)."""
    answer = []
    for line in lines[lines.index(typed) + 1 :]:
        if PROMPT.match(line) or line == "Bye!":
            break
        if line.strip():
            answer.append(line)
    return answer


SCRIPT = """\
/groups
/events
1
1
/as bob
/event 1
1
/as carol
/event 1
1
/as me
/event 1
3
/frobnicate
99
hello there
/as
"""


async def test_a_newcomer_session(services: Services) -> None:
    await _hiking_with_two_seats(services)

    lines = await _run(services, SCRIPT)

    assert lines[0].startswith("Community console.")
    assert "• Hiking (hiking) · 1 member" in _after(lines, "me> /groups")
    listed = _after(lines, "me> /events")
    assert "Ridge walk  #1 · Hiking" in listed
    assert listed[-1].startswith("   [1] ")
    opened = _after(lines, "me> 1")  # the first "1": the activity's button in the list
    assert opened[0] == "Ridge walk  #1"
    assert "👥 0/2 going" in opened
    assert opened[-2] == "   [1] ✅ Sign up  [2] 🤔 Maybe  [3] ❌ Cancel  [4] 👥 Who's going"
    assert opened[-1] == "   [5] 📅 Add to calendar"
    signed_up = _after(lines[lines.index("me> 1") + 1 :], "me> 1")  # the second "1"
    assert signed_up[0] == "💬 You're in!"
    assert "👥 1/2 going" in signed_up and "✅ You're going." in signed_up
    assert "— you are now bob (someone new) —" in lines
    bobs = _after(lines, "bob> 1")
    assert bobs[0] == "💬 You're in!" and "👥 2/2 going" in bobs
    carols = _after(lines, "carol> 1")
    assert carols[0] == "💬 It's full: you're #1 on the waitlist."
    assert "⏳ You're #1 on the waitlist." in carols

    mine = _after(lines, "me> 3")  # the Cancel button
    assert "💬 Your sign-up is cancelled." in mine
    assert "👥 2/2 going" in mine
    notices = [line for line in lines if line.startswith("📨")]
    assert notices == ["📨 to carol: Good news: a seat opened up and you're in!"]
    assert notices[0] in mine  # printed right then, not to anyone else

    assert _after(lines, "me> /frobnicate") == ["I don't know /frobnicate. Try /help."]
    assert _after(lines, "me> 99") == ["There is no button 99 here."]
    assert _after(lines, "me> hello there") == [
        "Commands start with /. Try /help, or type a button's number."
    ]
    assert _after(lines, "me> /as") == ["Usage: /as <name>, e.g. /as bob"]
    assert lines[-1] == "Bye!"

    async with services.db.uow(readonly=True) as uow:
        rows = (await uow.session.exec(select(Registration).order_by(Registration.seq))).all()
        names = {
            r.person_id: (await people.get_person(uow, r.person_id)).display_name for r in rows
        }
    assert [(names[r.person_id], r.status) for r in rows] == [
        ("Me", "cancelled"),
        ("Bob", "confirmed"),
        ("Carol", "confirmed"),
    ]


async def test_quit_stops_reading(services: Services) -> None:
    await _hiking_with_two_seats(services)
    lines = await _run(services, "/event 1\n1\n/quit\n/as bob\n/event 1\n1\n")
    assert lines[-2:] == ["me> /quit", "Bye!"]
    assert "bob> /event 1" not in lines
    async with services.db.uow(readonly=True) as uow:
        rows = (await uow.session.exec(select(Registration))).all()
    assert [r.status for r in rows] == ["confirmed"]


async def test_typed_sign_up_commands_say_their_result_once(services: Services) -> None:
    """/signup and /unsignup print their result once, as a message above the card (a typed
    command has no toast); "/cancel 1", meant for the sign-up, says how and offers the tap."""
    await _hiking_with_two_seats(services)
    lines = await _run(services, "/signup 1\n/cancel 1\n1\n/cancel\n/signup 1\n/unsignup 1\n")

    signed_up = _after(lines, "me> /signup 1")
    assert signed_up[0] == "You're in!"
    assert not [line for line in signed_up if "You're in!" in line][1:]  # said once, not twice
    assert "👥 1/2 going" in signed_up
    hint = _after(lines, "me> /cancel 1")
    assert hint[0].startswith("/cancel stops what you're in the middle of.")
    assert "send /unsignup 1" in hint[0]
    assert hint[-1] == "   [1] ❌ Cancel my sign-up"
    assert "💬 Your sign-up is cancelled." in _after(lines, "me> 1")  # the offered tap
    assert _after(lines, "me> /cancel") == ["Nothing to cancel."]
    left = _after(lines, "me> /unsignup 1")
    assert left[0] == "Your sign-up is cancelled."
    assert len([line for line in left if "cancelled" in line]) == 1


async def test_a_forged_number_after_switching_person_does_nothing(services: Services) -> None:
    await _hiking_with_two_seats(services)
    lines = await _run(services, "/event 1\n/as bob\n1\n")
    assert _after(lines, "bob> 1") == ["There is no button 1 here."]  # buttons were not bob's


async def test_as_a_known_name_is_that_person_and_notice_buttons_can_be_pressed(
    services: Services,
) -> None:
    await _hiking_with_two_seats(services)  # Maya, console handle "maya", owns Hiking
    script = "\n".join(
        [
            "/as Maya",  # the display name finds her handle
            "/event 1",
            "/as bob",
            "/signup 1",
            "/as carol",
            "/signup 1",
            "/as dan",
            "/signup 1",  # the waitlist
            "/as bob",
            "/unsignup 1",  # dan moves up and is told, with buttons
            "m1",  # not bob's to press
            "/as dan",
            "m1",
            "",
        ]
    )
    lines = await _run(services, script)
    assert "— you are now maya —" in lines
    assert "Ridge walk  #1" in _after(lines, "maya> /event 1")
    told = next(i for i, line in enumerate(lines) if line.startswith("📨 to dan:"))
    buttons = next(line for line in lines[told:] if line.startswith("   ["))
    assert buttons.strip().startswith("[m1] ")
    assert _after(lines, "bob> m1") == ["That button was sent to dan: /as dan first."]
    pressed = _after(lines, "dan> m1")
    assert pressed and not pressed[0].startswith("There is no button")


async def test_as_a_name_two_people_share_asks_which(services: Services) -> None:
    async with services.db.uow() as uow:
        for handle in ("ann1", "ann2"):
            await people.resolve_actor(
                uow, services.clock, platform="console", external_id=handle, display_name="Ann"
            )
    lines = await _run(services, "/as ann\n/as ann2\n")
    assert _after(lines, "me> /as ann") == [
        "Several people are called ann: ann1, ann2. /as one of those."
    ]
    assert "— you are now ann2 —" in lines


def _console(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "SEED_DEMO", "DATABASE_URL", "LOG_LEVEL")
    }
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'community.db'}", SEED_DEMO="true")
    return subprocess.run(
        [str(BOT), "run"],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def test_the_installed_command_on_a_fresh_machine(tmp_path: Path) -> None:
    """As the README says: `cp .env.example .env`, then run; no migration lines ahead of the
    banner (23 on the first start)."""
    assert BOT.exists(), BOT
    (tmp_path / ".env").write_text((Path(__file__).parents[2] / ".env.example").read_text())
    first = _console(tmp_path, "/groups\n/events\n/quit\n")
    assert first.returncode == 0, first.stderr
    out = first.stdout
    for group in ("Hiking", "Cycling", "Fishing"):
        assert f"• {group} ({group.lower()})" in out, out
    assert "Upcoming activities" in out
    assert "Sunrise ridge hike" in out
    assert "2/3 going" in out  # the demo's own sign-ups
    assert out.rstrip().endswith("Bye!")
    assert "Traceback" not in first.stderr
    assert "alembic" not in first.stderr, first.stderr

    second = _console(tmp_path, "/groups\n/quit\n")
    assert second.returncode == 0, second.stderr
    listed = [line for line in second.stdout.splitlines() if line.startswith("• ")]
    assert len(listed) == 3, second.stdout
    for group in ("Hiking", "Cycling", "Fishing"):
        assert sum(line.startswith(f"• {group} (") for line in listed) == 1
        assert f"• {group} ({group.lower()}) · 4 members" in second.stdout


async def test_an_error_note_leaves_the_buttons_pressable(services: Services) -> None:
    """ "⚠️ No free seat for another guest." came without the card, and the activity's buttons
    above it said "There is no button 5 here." after: a refused tap on a card now shows the card
    as it stands again (core REDRAWN_WHEN_REFUSED), and its buttons answer to their numbers."""
    await _hiking_with_two_seats(services)
    async with services.db.uow() as uow:
        await events.edit_event(uow, services.clock, 1, 1, max_guests=2, capacity=3)
    lines = await _run(services, "/as carol\n/signup 1\n/as bob\n/event 1\n1\n5\n5\n5\n")
    assert lines.count("bob> 5") == 3
    answers = [_after(lines[at:], "bob> 5") for at, line in enumerate(lines) if line == "bob> 5"]
    assert answers[0][0] == "💬 You're going, with 1 guest."
    assert answers[1] == answers[2]
    assert answers[1][0] == "⚠️ No free seat for another guest."
    assert "Ridge walk  #1" in answers[1] and "There is no button" not in "\n".join(lines)


async def test_a_confirmation_is_printed_once(services: Services) -> None:
    """Approving a request answered "💬 Bob is now a member." and then "Bob is now a member."."""
    script = "\n".join(
        [
            "/as maya",
            "/newgroup Secret Club | members only | | private",
            "/as bob",
            "/join secret club",
            "/as maya",
            "/requests secret club",
            "1",
        ]
    )
    lines = await _run(services, script + "\n")
    approved = _after(lines, "maya> 1")
    assert [line for line in approved if "Bob is now a member." in line] == [
        "💬 Bob is now a member."
    ]


async def test_nothing_is_printed_after_bye(services: Services) -> None:
    """A seat held for Carol by the last line typed was offered after "Bye!"."""
    await _hiking_with_two_seats(services)
    async with services.db.uow() as uow:
        await events.edit_event(uow, services.clock, 1, 1, offer_seconds=7200)
    script = "/signup 1\n/as bob\n/signup 1\n/as carol\n/signup 1\n/as bob\n/unsignup 1\n"
    offers = OfferWorker(services)
    try:
        lines = await _run(services, script, workers=[offers])
    finally:
        await offers.stop()
    offered = [line for line in lines if line.startswith("📨 to carol: 🎟 A seat opened up")]
    assert len(offered) == 1
    assert lines[-1] == "Bye!"

"""Groups: joining public and private ones, leaving, bans, roles and who may organize."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from core.chat.registry import handle_text
from core.clock import FrozenClock
from core.db import Database
from core.errors import DomainError
from core.i18n import Translator
from core.models import Membership, Registration, Role, Visibility
from core.notices import NoticeWorker
from core.services import events, groups
from core.services.events import EventDraft
from tests.support import Chat, RecordingNotifier

EN = Translator("en")
RIDGE = "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead | free | 3"


async def _membership(chat: Chat, group_id: int, who: str) -> Membership | None:
    person = await chat.person_id(who)
    async with chat.services.db.uow(readonly=True) as uow:
        return await groups.membership_of(uow, group_id, person)


async def _status(chat: Chat, group_id: int, who: str) -> tuple[str, str] | None:
    found = await _membership(chat, group_id, who)
    return None if found is None else (found.status, found.role)


async def _secret(chat: Chat) -> int:
    reply = await chat.say("maya", "/newgroup Secret | A quiet club | | private")
    assert "🔒 private" in reply.text
    async with chat.services.db.uow(readonly=True) as uow:
        return (await groups.find_group(uow, "secret")).id  # type: ignore[return-value]


# ---- private groups: requests and decisions ------------------------------------------------


async def test_private_group_request_approved_by_an_admin(chat: Chat) -> None:
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    secret = await _secret(chat)
    olga = await chat.person_id("olga")

    reply = await chat.say("olga", "/join secret")
    assert reply.toast == "Secret is private: your request was sent to its admins."
    assert "Your request to join is waiting for an admin." in reply.text
    assert (await chat.say("olga", "/join secret")).toast == (
        "Your request to join Secret is still waiting."
    )
    # waiting is not being in: nothing inside is visible yet
    assert (await chat.say("olga", "/posts secret")).text.startswith("⚠️ Secret is a private group")

    reply = await chat.say("maya", "/requests secret")
    assert reply.text.splitlines() == ["Join requests for Secret", "• olga"]
    [[approve, decline]] = reply.cards[0].buttons
    assert approve.label == "✅ Approve olga"
    assert (approve.action.act.value, approve.action.args) == ("ap", (secret, olga))
    assert (decline.action.act.value, decline.action.args) == ("rj", (secret, olga))

    await chat.say("zed", "/join secret")
    reply = await chat.click("maya", f"ap:{secret}:{olga}")
    assert reply.toast == "olga is now a member."
    # the tapped card is redrawn: what was decided, what still waits, no Approve for olga
    assert reply.edit and reply.text.splitlines() == [
        "olga is now a member.",
        "Join requests for Secret",
        "• zed",
    ]
    assert [b.label for row in reply.cards[0].buttons for b in row] == [
        "✅ Approve zed",
        "✖ Decline",
    ]
    approved = ["You're in: your request to join Secret was approved."]
    assert sent.texts_to("olga") == approved
    assert await _status(chat, secret, "olga") == ("active", "member")
    assert (await chat.say("olga", "/posts secret")).text.startswith("Posts in Secret")
    last = await chat.click("maya", f"rj:{secret}:{await chat.person_id('zed')}")
    assert last.text == "Declined zed." and not last.cards[0].buttons
    assert "No pending requests." in (await chat.say("maya", "/requests secret")).text
    # the button pressed a second time (or by a second admin) says it is decided already
    again = await chat.click("maya", f"ap:{secret}:{olga}")
    assert again.toast == "olga's request was already approved."
    assert sent.texts_to("olga") == approved  # told once


async def test_private_group_request_declined(chat: Chat) -> None:
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    secret = await _secret(chat)
    olga = await chat.person_id("olga")
    await chat.say("olga", "/join secret")

    reply = await chat.click("maya", f"rj:{secret}:{olga}")

    assert reply.toast == "Declined olga."
    assert sent.texts_to("olga") == ["Your request to join Secret was declined."]
    assert await _status(chat, secret, "olga") == ("declined", "member")
    assert (await chat.say("olga", "/posts secret")).text.startswith("⚠️ ")
    # not at once: a cool-down of a day, said in hours
    chat.services.clock.advance(timedelta(hours=2))
    assert (await chat.say("olga", "/join secret")).toast == (
        "Your request to join Secret was declined. You can ask again in 22 h."
    )
    assert await _status(chat, secret, "olga") == ("declined", "member")  # nothing changed
    assert (await chat.click("maya", f"rj:{secret}:{olga}")).toast == (
        "olga's request was already declined."
    )
    chat.services.clock.advance(timedelta(hours=22))
    assert (await chat.say("olga", "/join secret")).toast.endswith("was sent to its admins.")


async def test_a_request_reaches_every_admin_with_its_buttons(chat: Chat) -> None:
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    secret = await _secret(chat)
    await chat.say("bob", "/join secret")
    await chat.click("maya", f"ap:{secret}:{await chat.person_id('bob')}")
    await chat.say("maya", "/promote secret bob")
    await chat.say("carl", "/join secret")
    await chat.click("maya", f"ap:{secret}:{await chat.person_id('carl')}")  # a plain member
    olga = await chat.person_id("olga")

    sent.sent.clear()
    await chat.say("olga", "/join secret")

    assert sorted(who for who, _ in sent.sent) == ["bob", "maya"]  # carl, a member, is not asked
    [card] = [card for who, card in sent.sent if who == "maya"]
    assert card.text == "olga asks to join Secret."
    [[approve, decline]] = card.buttons
    assert (approve.action.act.value, approve.action.args) == ("ap", (secret, olga))
    assert (decline.action.act.value, decline.action.args) == ("rj", (secret, olga))
    # bob decides first; maya's tap on her copy of the buttons is told so
    assert (await chat.click("bob", f"ap:{secret}:{olga}")).toast == "olga is now a member."
    late = await chat.click("maya", f"rj:{secret}:{olga}")
    assert late.toast == "olga's request was already approved."
    assert await _status(chat, secret, "olga") == ("active", "member")


async def test_a_request_decided_by_one_admin_is_redrawn_on_the_others_tap(chat: Chat) -> None:
    """Tom declined 李伟; Maya's copy of the request kept ✅ Approve / ✖ Decline, and her tap
    only said it was decided. It now redraws her card: who decided what, with no buttons for
    李伟, and the requests still waiting below with theirs."""
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    secret = await _secret(chat)
    await chat.say("tom", "/join secret")
    await chat.click("maya", f"ap:{secret}:{await chat.person_id('tom')}")
    await chat.say("maya", "/promote secret tom")
    await chat.say("李伟", "/join secret")
    li = await chat.person_id("李伟")
    [card] = [card for who, card in sent.sent if who == "maya" and "李伟" in card.text]
    assert card.text == "李伟 asks to join Secret." and card.buttons

    assert (await chat.click("tom", f"rj:{secret}:{li}")).toast == "Declined 李伟."
    late = await chat.click("maya", f"ap:{secret}:{li}")
    assert late.toast == "李伟's request was already declined." and late.alert
    assert late.edit and late.text == "tom declined 李伟." and not late.cards[0].buttons
    assert await _status(chat, secret, "李伟") == ("declined", "member")

    await chat.say("zed", "/join secret")  # another request waits: it keeps its buttons
    await chat.say("ivy", "/join secret")
    await chat.click("maya", f"ap:{secret}:{await chat.person_id('ivy')}")
    again = await chat.click("tom", f"rj:{secret}:{await chat.person_id('ivy')}")
    assert again.text.splitlines() == ["maya approved ivy.", "Join requests for Secret", "• zed"]
    assert [b.label for row in again.cards[0].buttons for b in row] == [
        "✅ Approve zed",
        "✖ Decline",
    ]
    # someone who may not decide is told so, and shown nothing of the group's requests
    stranger = await chat.click("olga", f"ap:{secret}:{li}")
    assert stranger.toast == "Only admins of Secret can do that." and not stranger.edit


async def test_leaving_while_a_request_waits_withdraws_it(chat: Chat) -> None:
    """Zoe asked to join Secret, then sent /leave secret: "You left Secret.", though she was
    never in it; the admins' cards kept their buttons, and a tap said "No pending request"."""
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    secret = await _secret(chat)
    await chat.say("zoe", "/join secret")
    zoe = await chat.person_id("zoe")

    reply = await chat.say("zoe", "/leave secret")
    assert reply.text == "Your request to join Secret was withdrawn." == reply.toast
    assert await _status(chat, secret, "zoe") == ("left", "member")
    assert "Waiting for approval" not in (await chat.say("zoe", "/mygroups")).text
    tap = await chat.click("maya", f"ap:{secret}:{zoe}")
    assert tap.toast == "zoe withdrew their request to join Secret."
    assert tap.edit and tap.text == "zoe withdrew their request to join Secret."
    assert not tap.cards[0].buttons and await _status(chat, secret, "zoe") == ("left", "member")
    assert (await chat.say("zoe", "/leave secret")).text == "⚠️ You are not in Secret."

    # she may ask again at once (a withdrawal is no refusal), and that request is decided anew
    assert (await chat.say("zoe", "/join secret")).toast.endswith("was sent to its admins.")
    assert (await chat.click("maya", f"ap:{secret}:{zoe}")).toast == "zoe is now a member."
    assert sent.texts_to("zoe") == ["You're in: your request to join Secret was approved."]


async def test_membership_news_outlives_the_process_that_made_it(chat: Chat) -> None:
    """A join request, its decision, a ban and its lifting commit with the duty to tell: a
    process that dies right after the commit (here: no worker ran in it) leaves the notices to
    whichever process runs next, which tells each person once, what is still true by then."""
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    secret = await _secret(chat)
    await chat.say("maya", "/newgroup Runners")
    await chat.say("troll", "/join runners")

    await chat.unattended("olga", "/join secret")
    assert sent.sent == []  # committed; the process "died" here
    assert await NoticeWorker(chat.services, worker="next process").run_due() == 1
    assert sent.texts_to("maya") == ["olga asks to join Secret."]
    assert await NoticeWorker(chat.services, worker="and another").run_due() == 0  # not twice

    # before any worker runs: carl asks and is declined; troll is banned, then let back
    sent.sent.clear()
    await chat.unattended("carl", "/join secret")
    await chat.unattended("maya", f"rj:{secret}:{await chat.person_id('carl')}")
    await chat.unattended("maya", "/ban runners troll")
    await chat.unattended("maya", "/unban runners troll")
    assert await NoticeWorker(chat.services).run_due() == 2
    assert sent.texts_to("maya") == []  # a request decided already is not asked about
    assert sent.texts_to("carl") == ["Your request to join Secret was declined."]
    assert sent.texts_to("troll") == ["You may join Runners again: your ban was lifted."]

    # two pieces of news for one person before any worker runs: both are told
    await chat.unattended("maya", f"ap:{secret}:{await chat.person_id('olga')}")
    await chat.unattended("maya", "/transfer secret olga")
    assert await NoticeWorker(chat.services).run_due() == 2
    assert sent.texts_to("olga") == [
        "You're in: your request to join Secret was approved.",
        "You're now the owner of Secret.",
    ]


async def test_requests_without_a_group_offers_the_groups_where_requests_wait(
    chat: Chat,
) -> None:
    """/requests alone said "Which group?" instead of offering the admin's groups with
    requests waiting, as a command without its argument does where it can."""
    secret = await _secret(chat)
    await chat.say("tom", "/newgroup Quiet | | | private")
    await chat.say("maya", "/join quiet")
    await chat.click("tom", f"ap:2:{await chat.person_id('maya')}")
    await chat.say("tom", "/promote quiet maya")
    await chat.say("tom", "/newgroup Hidden | | | private")  # tom's alone: not maya's to decide
    await chat.say("maya", "/newgroup Open")  # hers, nobody asks
    for who, group in (("olga", "secret"), ("zed", "secret"), ("ivy", "quiet"), ("ivy", "hidden")):
        await chat.say(who, f"/join {group}")

    reply = await chat.say("maya", "/requests")
    assert reply.text == "Join requests wait in these groups:"
    buttons = [(b.label, b.action.act.value, b.action.args) for [b] in reply.cards[0].buttons]
    assert buttons == [("Quiet · 1 waiting", "rq", (2,)), ("Secret · 2 waiting", "rq", (secret,))]
    picked = await chat.click("maya", f"rq:{secret}")
    assert picked.text.splitlines() == ["Join requests for Secret", "• olga", "• zed"]
    assert (await chat.say("olga", "/requests")).text == (
        "No join requests wait in the groups you run."
    )
    assert (await chat.click("olga", f"rq:{secret}")).text == (
        "⚠️ Only admins of Secret can do that."
    )


async def test_only_admins_decide_requests(chat: Chat) -> None:
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    secret = await _secret(chat)
    olga = await chat.person_id("olga")
    await chat.say("bob", "/join secret")
    await chat.click("maya", f"ap:{secret}:{await chat.person_id('bob')}")  # bob is a member
    await chat.say("olga", "/join secret")

    for who in ("bob", "olga", "eve"):
        for verb in ("ap", "rj"):
            reply = await chat.click(who, f"{verb}:{secret}:{olga}")
            assert reply.toast == "Only admins of Secret can do that.", (who, verb)
    assert sent.texts_to("olga") == []  # nothing was decided
    assert (await chat.say("bob", "/requests secret")).text == (
        "⚠️ Only admins of Secret can do that."
    )
    assert await _status(chat, secret, "olga") == ("pending", "member")

    await chat.say("maya", "/promote secret bob")  # an admin now
    assert (await chat.click("bob", f"ap:{secret}:{olga}")).toast == "olga is now a member."


async def test_a_misspelt_private_makes_no_group(chat: Chat) -> None:
    """'| privat' in /newgroup's last field made a public group, without a word said."""
    reply = await chat.say("maya", "/newgroup Über Wandern | Hikes | outdoors | privat")
    assert reply.text == (
        "⚠️ Nothing was created: after the name, description and tags /newgroup takes only "
        "“private” or “public” (私密, 公开), not “privat”."
    )
    assert "No group called" in (await chat.say("maya", "/group uber-wandern")).text
    public = await chat.say("maya", "/newgroup Über Wandern | Hikes | outdoors | public")
    assert "Created Über Wandern" in public.text and "🔒" not in public.text
    private = await chat.say("maya", "/newgroup Secret | | | 私密")
    assert "🔒 private" in private.text


async def test_personal_answers_are_not_given_in_a_group_chat(chat: Chat) -> None:
    """/blocked in a group chat showed everyone there (the blocked person too) whom Zoe
    blocked, with the Unblock buttons; /settings a person's timezone and language; /requests
    who asks to join a private group, with Approve and Decline; /mygroups and /myevents one's
    groups and sign-ups. Each now asks for a private chat, where it answers as before."""
    await _secret(chat)
    await chat.say("tom", "/start")
    await chat.say("zoe", "/join secret")
    await chat.click("zoe", f"bk:{await chat.person_id('tom')}")
    await chat.say("zoe", "/settings timezone Asia/Shanghai")
    for who, command, private in (
        ("zoe", "blocked", "People you blocked"),
        ("zoe", "settings", "Asia/Shanghai"),
        ("zoe", "settings timezone Europe/Berlin", "Timezone saved"),
        ("maya", "requests secret", "Join requests for Secret"),
        ("zoe", "mygroups", "Waiting for approval: Secret"),
        ("zoe", "myevents", "You haven't signed up"),
    ):
        ctx = await chat.context(who)
        ctx.in_group_chat = True
        reply = await handle_text(ctx, f"/{command}")
        name = command.split()[0]
        assert reply.text == f"⚠️ Send me /{name} in a private chat: the answer is just for you."
        assert not reply.cards[0].buttons
        assert private in (await chat.say(who, f"/{command}")).text
    assert "Timezone: Europe/Berlin" in (await chat.say("zoe", "/settings")).text  # in private


# ---- joining and leaving -------------------------------------------------------------------


async def test_join_and_leave_a_public_group(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking | Weekend hikes | hiking, outdoors")
    reply = await chat.say("bob", "/join Hiking")
    assert reply.toast == "Welcome to Hiking!"
    assert "2 members" in reply.text and "You're a member." in reply.text
    assert (await chat.say("bob", "/join hiking")).toast == "You're already in Hiking."
    assert "Hiking" in (await chat.say("bob", "/mygroups")).text

    reply = await chat.say("bob", "/leave hiking")
    assert reply.text == "You left Hiking."
    assert "1 member" in (await chat.say("bob", "/group hiking")).text
    assert (await chat.say("bob", "/leave hiking")).text == "⚠️ You are not in Hiking."
    assert "You're not in any group yet" in (await chat.say("bob", "/mygroups")).text

    assert (await chat.say("bob", "/join hiking")).toast == "Welcome to Hiking!"  # back again


async def test_owner_cannot_leave_until_they_hand_over(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("bob", "/join hiking")
    assert (await chat.say("maya", "/leave hiking")).text == (
        "⚠️ You own Hiking: make someone else the owner before leaving."
    )
    maya = await chat.person_id("maya")
    async with chat.services.db.uow() as uow:
        group, _ = await groups.set_role(uow, maya, "hiking", "bob", Role.OWNER)
    assert await _status(chat, group.id, "bob") == ("active", "owner")  # type: ignore[arg-type]
    assert await _status(chat, group.id, "maya") == ("active", "admin")  # type: ignore[arg-type]
    assert (await chat.say("maya", "/leave hiking")).text == "You left Hiking."
    assert (await chat.say("bob", "/leave hiking")).text.startswith("⚠️ You own Hiking")


async def test_groups_are_found_by_name_slug_or_number(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Trail Runners | Early runs | running, outdoors")
    await chat.say("maya", "/newgroup Chess Club | Blitz on Fridays | chess, games")
    for ref in ("trail-runners", "Trail Runners", "TRAIL runners", "#1", "1"):
        reply = await chat.say("bob", f"/group {ref}")
        assert reply.text.startswith("Trail Runners  (trail-runners)"), ref
    reply = await chat.say("bob", "/groups outdoors")
    assert "Trail Runners" in reply.text and "Chess Club" not in reply.text
    assert "Chess Club" in (await chat.say("bob", "/groups blitz")).text
    assert (await chat.say("bob", "/groups knitting")).text.startswith("No groups match")


async def test_names_mixing_chinese_with_digits_or_words_do_not_clash(chat: Chat) -> None:
    """'读书会2' had the slug "2": its invite '/join 2' joined group #2, and '跑步2' (also "2")
    was refused as a group that already exists; '＃1' had the slug "1"."""
    await chat.say("maya", "/newgroup Hiking")  # group #1
    await chat.say("maya", "/newgroup Chess")  # group #2
    for name in ("读书会2", "跑步2", "读书 Club", "跑步 Club", "＃1"):
        reply = await chat.say("maya", f"/newgroup {name}")
        assert reply.text.startswith(
            f"Created {name}. You're its owner. Invite people with /join {name}.\n\n{name}\n"
        ), name
        joined = await chat.say("bob", f"/join {name}")
        assert joined.toast == f"Welcome to {name}!", name
    named_as_a_number = await chat.say("maya", "/newgroup 2024")  # '/join 2024': group #2024
    assert named_as_a_number.text.startswith("⚠️ A group's name can't be just a number")
    assert (await chat.say("bob", "/join 2")).toast == "Welcome to Chess!"
    refused = await chat.say("ann", "/newgroup 读书 club")
    assert refused.text == "⚠️ There is already a group called “读书 club”."
    listed = await chat.say("ann", "/groups 读书")
    assert "• 读书会2 · 2 members" in listed.text and "• 读书 Club · 2 members" in listed.text


async def test_groups_are_listed_biggest_first(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Alpha")
    await chat.say("maya", "/newgroup Beta")
    await chat.say("bob", "/join beta")
    reply = await chat.say("eve", "/groups")
    lines = [line for line in reply.text.splitlines() if line.startswith("• ")]
    assert lines == ["• Beta (beta) · 2 members", "• Alpha (alpha) · 1 member"]


# ---- bans ----------------------------------------------------------------------------------


async def test_ban_gives_up_sign_ups_and_blocks_new_ones(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", RIDGE)
    await chat.say("maya", "/newevent hiking | Lake | 2026-12-08 09:00 | Pier")
    await chat.say("bob", "/join hiking")
    await chat.click("bob", "su:1")

    reply = await chat.say("maya", "/ban hiking bob")
    assert reply.text == "bob is banned from Hiking."

    async with chat.services.db.uow(readonly=True) as uow:
        rows = (await uow.session.exec(select(Registration))).all()
    assert [(r.event_id, r.status) for r in rows] == [(1, "cancelled")]  # the seat is freed
    assert "0/3 going" in (await chat.say("maya", "/event 1")).text
    assert (await chat.click("bob", "su:2")).toast == "You are banned from Hiking."
    assert (await chat.say("bob", "/join hiking")).toast == "You are banned from Hiking."
    assert (await chat.say("bob", "/posts hiking")).text == "⚠️ You are banned from Hiking."
    assert "No upcoming activities" in (await chat.say("bob", "/events")).text
    assert "Hiking" not in (await chat.say("bob", "/mygroups")).text


async def test_who_may_ban_whom(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    for name in ("leo", "ivy", "bob", "cat"):
        await chat.say(name, "/join hiking")
    await chat.say("maya", "/promote hiking leo")
    await chat.say("maya", "/promote hiking ivy")

    assert (await chat.say("bob", "/ban hiking cat")).text == "⚠️ Only admins of Hiking can do that."
    assert (await chat.say("leo", "/ban hiking maya")).text == (
        "⚠️ Nobody can do that to the group's owner."
    )
    assert (await chat.say("leo", "/ban hiking ivy")).text == (
        "⚠️ Only the owner can do that to an admin."
    )
    assert (await chat.say("leo", "/ban hiking leo")).text == "⚠️ You can't ban yourself."
    assert (await chat.say("leo", "/ban hiking @cat")).text == "cat is banned from Hiking."
    assert (await chat.say("maya", "/ban hiking ivy")).text == "ivy is banned from Hiking."
    assert await _status(chat, 1, "ivy") == ("banned", "member")
    assert await _status(chat, 1, "bob") == ("active", "member")


async def test_an_admin_command_without_its_person_shows_an_example_for_its_group(
    chat: Chat,
) -> None:
    """'/ban book club' answered with the example '/ban hiking @troll', whatever the group."""
    await chat.say("maya", "/newgroup Book club")
    await chat.say("maya", "/newgroup 读书会")
    for typed, example in (
        ("/ban book club", "Example: /ban book-club @troll"),
        ("/ban 读书会", "Example: /ban 读书会 @troll"),
        ("/unban book club", "Example: /unban book-club #12"),
        ("/promote book club", "Example: /promote book-club @maya"),
        ("/grouptimezone book club", "Example: /grouptimezone book-club Europe/Berlin"),
        ("/memberevents book club", "Example: /memberevents book-club on"),
        ("/ban", "Example: /ban hiking @troll"),  # no group named: any will do
    ):
        assert (await chat.say("maya", typed)).text.endswith(example), typed


# ---- roles and who may organize ------------------------------------------------------------


async def test_owner_promotes_and_demotes(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("leo", "/join hiking")
    await chat.say("bob", "/join hiking")
    refused = "⚠️ Only admins of Hiking can create activities there."
    assert (await chat.say("leo", RIDGE)).text == refused

    assert (await chat.say("maya", "/promote hiking leo")).text == "leo is now an admin of Hiking."
    assert await _status(chat, 1, "leo") == ("active", "admin")
    assert (await chat.say("leo", RIDGE)).text.startswith("Activity #1 created.")
    # an admin cannot hand out or take away roles
    assert (await chat.say("leo", "/promote hiking bob")).text == (
        "⚠️ Only the owner of Hiking can change roles."
    )
    assert (await chat.say("leo", "/demote hiking leo")).text == (
        "⚠️ Only the owner of Hiking can change roles."
    )

    demoted = (await chat.say("maya", "/demote hiking leo")).text
    assert demoted == "leo is now a member of Hiking (no longer an admin)."
    assert await _status(chat, 1, "leo") == ("active", "member")
    assert (await chat.say("leo", RIDGE)).text == refused
    assert (await chat.say("maya", "/promote hiking maya")).text == "⚠️ You own Hiking already."
    assert (await chat.say("maya", "/transfer hiking maya")).text == "⚠️ You own Hiking already."
    asked = await chat.say("maya", "/transfer hiking")
    assert "/transfer hiking @maya" in asked.text and "/promote" not in asked.text


async def test_a_role_someone_already_has_is_not_given_again(chat: Chat) -> None:
    """A second '/promote hiking leo' said "leo is now an admin of Hiking." again."""
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("leo", "/join hiking")
    await chat.say("bob", "/join hiking")
    assert (await chat.say("maya", "/promote hiking leo")).text == "leo is now an admin of Hiking."
    again = await chat.say("maya", "/promote hiking leo")
    assert again.text == "⚠️ leo is already an admin of Hiking."
    assert await _status(chat, 1, "leo") == ("active", "admin")
    demoted = await chat.say("maya", "/demote hiking bob")
    assert demoted.text == "⚠️ bob is not an admin of Hiking."
    assert await _status(chat, 1, "bob") == ("active", "member")


async def test_members_can_create_events_switch(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("bob", "/join hiking")
    refused = "⚠️ Only admins of Hiking can create activities there."
    assert (await chat.say("bob", RIDGE)).text == refused
    assert (await chat.say("bob", "/memberevents hiking on")).text == (
        "⚠️ Only admins of Hiking can do that."
    )

    reply = await chat.say("maya", "/memberevents hiking on")
    assert reply.text == "Members of Hiking can now create activities."
    assert (await chat.say("bob", RIDGE)).text.startswith("Activity #1 created.")
    assert (await chat.say("eve", RIDGE)).text == "⚠️ Join Hiking first (/join hiking)."

    reply = await chat.say("maya", "/memberevents hiking off")
    assert reply.text == "Only admins of Hiking can create activities now."
    assert (await chat.say("bob", RIDGE)).text == refused
    # what bob organized stays his to change
    assert (await chat.say("bob", "/editevent 1 title Ridge at dawn")).text.startswith(
        "Activity #1 updated."
    )
    left = await chat.say("bob", "/leave hiking")  # ...while he is in the group
    assert left.text == (
        "You left Hiking.\nYou organise 1 coming activity there: only the group's admins can "
        "change it now, unless you join again."
    )
    refused = await chat.say("bob", "/editevent 1 title Ridge at noon")
    assert refused.text == (
        "⚠️ You're no longer in this activity's group, so you can't change it: join the group "
        "again, or ask its admins."
    )


async def test_a_groups_timezone_is_read_in_any_letter_case(chat: Chat) -> None:
    """'/grouptimezone ny club europe/berlin' was "not a timezone I know", though /settings
    timezone took it."""
    await chat.say("maya", "/newgroup NY Club")
    for typed, zone in (("europe/berlin", "Europe/Berlin"), ("utc", "UTC")):
        reply = await chat.say("maya", f"/grouptimezone ny club {typed}")
        assert reply.text == (
            f"New activities of NY Club are now in {zone}; those already planned keep their time."
        )
    unknown = await chat.say("maya", "/grouptimezone ny club mars/base")
    assert unknown.text == (
        "⚠️ “mars/base” is not a timezone I know. Try a name like Europe/Berlin or Asia/Shanghai."
    )
    settings = await chat.say("maya", "/settings timezone asia/shanghai")
    assert settings.text == "Timezone saved: Asia/Shanghai"


async def test_service_level_roles_rules(db: Database, clock: FrozenClock, chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("bob", "/join hiking")
    maya, bob = await chat.person_id("maya"), await chat.person_id("bob")
    async with db.uow() as uow:
        with pytest.raises(DomainError) as caught:
            await events.create_event(
                uow,
                clock,
                bob,
                "hiking",
                EventDraft("Ridge", clock.now() + timedelta(days=2), "Trailhead"),
            )
    assert caught.value.code == "not_organizer"
    async with db.uow() as uow:
        group = await groups.set_members_can_create_events(uow, maya, "hiking", True)
    assert group.members_can_create_events
    async with db.uow() as uow:
        view = await events.create_event(
            uow, clock, bob, "hiking", EventDraft("Ridge", clock.now() + timedelta(days=2), "X")
        )
    assert view.can_manage and view.event.creator_id == bob


async def test_a_ban_gives_up_the_seats_and_promotes_the_next(chat: Chat) -> None:
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead | free | 1")
    for who in ("troll", "ana"):
        await chat.say(who, "/join hiking")
        await chat.click(who, "su:1")
    reply = await chat.say("maya", "/ban hiking troll")
    assert "troll is banned from Hiking" in reply.text
    assert sent.texts_to("troll") == [
        "You were banned from Hiking by its admins. Any places you held in its coming "
        "activities were given up."
    ]
    [promoted] = sent.texts_to("ana")
    assert promoted.startswith("Good news: a seat opened up and you're in!")
    assert "1/1 going" in (await chat.say("ana", "/event 1")).text
    assert "You're going" in (await chat.say("ana", "/event 1")).text
    card = await chat.say("troll", "/group hiking")
    assert "You're banned from this group." in card.text
    assert "➕ Join" not in [b.label for c in card.cards for row in c.buttons for b in row]
    again = await chat.say("maya", "/ban hiking troll")
    assert again.text == "⚠️ troll is already banned from Hiking."
    assert sent.texts_to("troll") == [
        "You were banned from Hiking by its admins. Any places you held in its coming "
        "activities were given up."
    ]  # once


async def test_leaving_a_private_group_gives_up_its_seats(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Secret | | | private")
    await chat.say("maya", "/newevent secret | Night walk | 2026-12-06 21:00 | Gate | free | 5")
    await chat.say("ana", "/join secret")
    await chat.click("maya", f"ap:1:{await chat.person_id('ana')}")
    await chat.click("ana", "su:1")
    await chat.say("ana", "/leave secret")
    assert "You haven't signed up" in (await chat.say("ana", "/myevents")).text


# ---- admins acting on the right person -------------------------------------------------------


async def test_a_ban_of_an_ambiguous_name_asks_which(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Runners")
    elsewhere = Chat(chat.services, platform="discord")  # another Ann, on another platform
    for driver in (chat, elsewhere):
        await driver.say("Ann", "/join runners")
    first, second = await chat.person_id("Ann"), await elsewhere.person_id("Ann")
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    sent_there = chat.services.notifiers["discord"] = RecordingNotifier(platform="discord")

    reply = await chat.say("maya", "/ban runners ann")
    assert reply.text == (
        f"⚠️ Several members of Runners are called “ann”: #{first} Ann, #{second} Ann. "
        f"Name one by its number, like #{first}."
    )
    group = await _group_id(chat, "runners")
    assert await _status(chat, group, "Ann") == ("active", "member")

    reply = await chat.say("maya", f"/ban runners #{second}")
    assert reply.text == "Ann is banned from Runners."
    assert sent.sent == []  # the other Ann is not told
    assert [card.text for _, card in sent_there.sent] == [
        "You were banned from Runners by its admins. Any places you held in its coming "
        "activities were given up."
    ]
    assert await _status(chat, group, "Ann") == ("active", "member")
    assert await _status(elsewhere, group, "Ann") == ("banned", "member")
    assert (await chat.say("maya", "/ban runners #999999")).text.startswith("⚠️ ")


async def test_unban_lets_them_back(chat: Chat) -> None:
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    await chat.say("maya", "/newgroup Runners")
    await chat.say("troll", "/join runners")
    await chat.say("maya", "/ban runners troll")
    assert (await chat.say("troll", "/join runners")).text.startswith("⚠️ You are banned")

    reply = await chat.say("maya", "/unban runners troll")
    assert reply.text == "troll may join Runners again."
    assert sent.texts_to("troll") == [
        "You were banned from Runners by its admins. Any places you held in its coming "
        "activities were given up.",
        "You may join Runners again: your ban was lifted.",
    ]
    assert (await chat.say("troll", "/join runners")).toast == "Welcome to Runners!"
    again = await chat.say("maya", "/unban runners troll")
    assert again.text == "⚠️ troll is not banned from Runners."
    assert (await chat.say("troll", "/unban runners troll")).text == (
        "⚠️ Only admins of Runners can do that."
    )


async def test_the_owner_hands_the_group_over_then_may_leave(chat: Chat) -> None:
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    await chat.say("maya", "/newgroup Runners")
    await chat.say("bob", "/join runners")
    card = (await chat.say("maya", "/group runners")).cards[-1]
    labels = [b.label for row in card.buttons for b in row]
    assert "Leave" not in labels  # an owner's Leave would only be refused

    assert (await chat.say("bob", "/transfer runners maya")).text.startswith("⚠️ Only the owner")
    reply = await chat.say("maya", "/transfer runners bob")
    assert reply.text == "bob now owns Runners; you're one of its admins."
    assert sent.texts_to("bob") == ["You're now the owner of Runners."]
    group = await _group_id(chat, "runners")
    assert await _status(chat, group, "bob") == ("active", "owner")
    assert await _status(chat, group, "maya") == ("active", "admin")
    card = (await chat.say("maya", "/group runners")).cards[-1]
    assert "Leave" in [b.label for row in card.buttons for b in row]
    assert (await chat.say("maya", "/leave runners")).toast == "You left Runners."


async def _group_id(chat: Chat, slug: str) -> int:
    async with chat.services.db.uow(readonly=True) as uow:
        return (await groups.find_group(uow, slug)).id  # type: ignore[return-value]


async def test_an_old_withdrawal_is_not_told_after_a_later_join(chat: Chat) -> None:
    """Zoe withdrew her request; later she joined Secret directly (it had become public) and
    left: a tap on the old request said "zoe withdrew their request", the decision of long
    ago. A join nobody decided clears the old decision."""
    secret = await _secret(chat)
    await chat.say("zoe", "/join secret")
    await chat.say("zoe", "/leave secret")  # withdrawn
    async with chat.services.db.uow() as uow:
        group = await groups.find_group(uow, "secret")
        group.visibility = Visibility.PUBLIC
        uow.session.add(group)
        await uow.commit()
    assert "Welcome to Secret!" in (await chat.say("zoe", "/join secret")).text
    await chat.say("zoe", "/leave secret")
    zoe = await chat.person_id("zoe")
    tap = await chat.click("maya", f"ap:{secret}:{zoe}")
    assert "withdrew" not in (tap.toast or ""), tap.toast


async def test_a_shared_chat_is_not_shown_a_private_groups_activities(chat: Chat) -> None:
    """/event, /who and /events in a group chat that is not a private group's home showed its
    activities and whole roster to everyone there; /events there also showed the asker's own
    "You're going"; /leave and /posts alone listed the asker's groups."""
    await _secret(chat)
    await chat.say("maya", "/newevent secret | Quiet walk | 2026-12-06 07:30 | Park | free | 5")
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 08:30 | Trailhead | free | 5")
    await chat.say("maya", "/signup 2")
    ctx = await chat.context("maya")
    ctx.in_group_chat, ctx.chat = True, ("test", "-100")
    for typed in ("/event 1", "/who 1"):
        refused = await handle_text(ctx, typed)
        assert "Secret is a private group" in refused.text and "Park" not in refused.text
    listed = await handle_text(ctx, "/events")
    assert "Ridge" in listed.text and "Quiet walk" not in listed.text
    assert "You're going" not in listed.text
    for typed in ("/leave", "/posts"):
        assert "in a private chat" in (await handle_text(ctx, typed)).text
    assert "Quiet walk" in (await chat.say("maya", "/events")).text  # her own chat: all

"""Discovery through the core: /nearby (distance cut-off, ranking, privacy, paging),
/recommend (co-membership, tags, hot posts, dismissals, cold start) and /companions (opt-in,
ranking, blocks, and consent before any handle is revealed). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlmodel import select

from core.actions import Act
from core.cards import Reply
from core.chat import Services, handle_action, handle_text
from core.chat.registry import Context
from core.db import Database
from core.errors import DomainError
from core.i18n import Translator
from core.models import Block, Hello, HelloStatus, Person, Report
from core.notices import NoticeWorker
from core.services import discovery, events, groups, posts
from core.services import people as people_service
from core.services.events import EventDraft
from tests.support import Chat, RecordingNotifier

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
HOME = (52.52, 13.40)  # Berlin
KM_PER_DEGREE_LAT = discovery.EARTH_KM * math.pi / 180
EN = Translator("en")


def north(km: float, origin: tuple[float, float] = HOME) -> tuple[float, float]:
    """A point `km` due north of the origin (along a meridian, haversine is exact)."""
    return origin[0] + km / KM_PER_DEGREE_LAT, origin[1]


class HandleChat(Chat):
    """The test chat, but everyone has a username (a handle) as on Telegram or Discord:
    Ann is @ann_handle."""

    async def context(self, who: str, locale: str | None = None) -> Context:
        async with self.services.db.uow() as uow:
            actor = await people_service.resolve_actor(
                uow,
                self.services.clock,
                platform=self.platform,
                external_id=who.lower(),
                display_name=who,
                username=f"{who.lower()}_handle",
                platform_locale=locale,
            )
        return Context(self.services, actor, Translator(actor.locale))


@pytest.fixture
def chat(services: Services) -> HandleChat:
    return HandleChat(services)


@pytest.fixture
def sent(services: Services) -> RecordingNotifier:
    """What other people were sent (notices), per person."""
    services.notifiers["test"] = RecordingNotifier()
    return services.notifiers["test"]  # type: ignore[return-value]


def everything(reply: Reply) -> str:
    """Every word the actor can see: cards, button labels, the toast."""
    labels = [b.label for card in reply.cards for row in card.buttons for b in row]
    return "\n".join([reply.text, *labels, reply.toast or ""])


def payloads(reply: Reply, kind: Act) -> list[str]:
    return [
        f"{b.action.act.value}:{':'.join(map(str, b.action.args))}"
        for card in reply.cards
        for row in card.buttons
        for b in row
        if b.action is not None and b.action.act == kind
    ]


async def refused(code: str, coro) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await coro
    assert caught.value.code == code
    return caught.value


async def group(chat: Chat, owner: str, spec: str) -> int:
    reply = await chat.say(owner, f"/newgroup {spec}")
    assert "Created" in reply.text, reply.text
    name = spec.split("|")[0].strip()
    async with chat.services.db.uow(readonly=True) as uow:
        return (await groups.find_group(uow, name)).id  # type: ignore[return-value]


async def join(chat: Chat, who: str, ref: str) -> None:
    reply = await chat.say(who, f"/join {ref}")
    assert "Welcome" in reply.text, reply.text


async def join_private(chat: Chat, owner: str, who: str, group_id: int) -> None:
    assert "request was sent" in (await chat.say(who, f"/join {group_id}")).text
    approved = await chat.click(owner, f"ap:{group_id}:{await chat.person_id(who)}")
    assert "⚠️" not in approved.text, approved.text


async def activity(
    chat: Chat,
    organizer: str,
    ref: str,
    title: str,
    *,
    at: tuple[float, float] | None = HOME,
    in_days: float = 3,
    capacity: int | None = None,
    db: Database | None = None,
) -> int:
    """`db`: another process's connection to the same database (default: this process's)."""
    services = chat.services
    organizer_id = await chat.person_id(organizer)
    draft = EventDraft(
        title=title,
        starts_at=services.clock.now() + in_days * DAY,
        place="Park",
        latitude=at[0] if at else None,
        longitude=at[1] if at else None,
        capacity=capacity,
    )
    async with (db or services.db).uow() as uow:
        view = await events.create_event(uow, services.clock, organizer_id, ref, draft)
    return view.event.id  # type: ignore[return-value]


async def sign_up(chat: Chat, who: str, event_id: int) -> None:
    reply = await chat.click(who, f"su:{event_id}")
    assert reply.toast in ("You're in!", "Already signed up."), reply.toast


async def locate(chat: Chat, who: str, where: tuple[float, float] = HOME) -> None:
    reply = await chat.say(who, f"/setlocation {where[0]:.6f}, {where[1]:.6f}")
    assert "Location saved" in reply.text, reply.text


async def nearby_titles(
    chat: Chat, who: str, radius: float = 10, areas: discovery.AreaCache | None = None
) -> list[str]:
    """The titles on the first /nearby page around the person's home, in rank order."""
    services = chat.services
    me = await chat.person_id(who)
    async with services.db.uow(readonly=True) as uow:
        person = await uow.session.get(Person, me)
        page = await discovery.nearby(
            uow,
            services.clock,
            me,
            person.latitude,  # type: ignore[union-attr, arg-type]
            person.longitude,  # type: ignore[union-attr, arg-type]
            radius,
            areas=areas,
        )
    return [item.view.event.title for item in page.items]


async def recommended(chat: Chat, who: str) -> discovery.Recommendations:
    services, me = chat.services, await chat.person_id(who)
    async with services.db.uow(readonly=True) as uow:
        return await discovery.recommend(uow, services.clock, me)


async def discoverable(chat: Chat, *names: str) -> None:
    for name in names:
        reply = await chat.say(name, "/settings discoverable on")
        assert "Others can now find you" in reply.text


async def interests(chat: Chat, who: str, tags: str) -> None:
    assert "Interests saved" in (await chat.say(who, f"/interests {tags}")).text


async def companion_names(chat: Chat, who: str, scope: str | None = None) -> list[str]:
    me = await chat.person_id(who)
    async with chat.services.db.uow(readonly=True) as uow:
        found = await discovery.companions(uow, me, scope)
    return [c.name for c in found]


# ---- /setlocation and /nearby: distance, radius, privacy -----------------------------------


async def test_setlocation_reads_coordinates_and_map_links_and_refuses_garbage(
    chat: Chat,
) -> None:
    async def stored() -> tuple[float | None, float | None]:
        me = await chat.person_id("Ann")
        async with chat.services.db.uow(readonly=True) as uow:
            person = await uow.session.get(Person, me)
        return person.latitude, person.longitude  # type: ignore[union-attr]

    saved = await chat.say("Ann", "/setlocation 52.52, 13.40")
    assert "Location saved" in saved.text and "/nearby" in saved.text
    assert await stored() == (52.52, 13.40)
    await chat.say("Ann", "/setlocation https://www.google.com/maps/@48.8566,2.3522,14z")
    assert await stored() == (48.8566, 2.3522)
    await chat.say("Ann", "/setlocation -33.8688,151.2093")
    assert await stored() == (-33.8688, 151.2093)

    for garbage in ("", "somewhere nice", "52,13", "https://maps.example/berlin"):
        reply = await chat.say("Ann", f"/setlocation {garbage}")
        assert "Send coordinates like 52.52, 13.40" in reply.text, garbage
    off_map = await chat.say("Ann", "/setlocation 95.00, 13.40")
    assert "off the map" in off_map.text
    assert await stored() == (-33.8688, 151.2093)  # nothing refused was saved


async def test_nearby_without_a_location_says_how_to_set_one(chat: Chat) -> None:
    reply = await chat.say("Ann", "/nearby")
    assert "I don't know where you are yet" in reply.text and "/setlocation" in reply.text


async def test_distance_cut_off_and_radius(chat: Chat) -> None:
    await group(chat, "Maya", "Hiking")
    await activity(chat, "Maya", "hiking", "Inside", at=north(9.9))
    await activity(chat, "Maya", "hiking", "Outside", at=north(10.1))
    await activity(chat, "Maya", "hiking", "Far", at=north(30))
    await activity(chat, "Maya", "hiking", "Nowhere", at=None)  # no coordinates: never nearby
    await locate(chat, "Ann")

    assert await nearby_titles(chat, "Ann") == ["Inside"]
    assert sorted(await nearby_titles(chat, "Ann", 10.2)) == ["Inside", "Outside"]
    assert sorted(await nearby_titles(chat, "Ann", 50)) == ["Far", "Inside", "Outside"]

    listed = await chat.say("Ann", "/nearby")
    assert "Popular within 10 km" in listed.text
    assert "Inside" in listed.text and "Outside" not in listed.text
    assert "9.9 km" in listed.text
    wider = await chat.say("Ann", "/nearby 50km")
    assert "Popular within 50 km" in wider.text and "Far" in wider.text
    assert "30.0 km" in wider.text


async def test_bad_radius_is_refused(chat: Chat) -> None:
    await locate(chat, "Ann")
    for bad in ("0", "201", "500 km", "ten", "-5", "2.5.1"):
        reply = await chat.say("Ann", f"/nearby {bad}")
        assert "The radius must be between 1 and 200 km." in reply.text, bad
    async with chat.services.db.uow(readonly=True) as uow:
        for radius in (0, -1, 0.5, 200.5, float("nan")):
            await refused(
                "bad_radius",
                discovery.nearby(uow, chat.services.clock, 1, *HOME, radius),  # type: ignore[arg-type]
            )
    forged = await chat.click("Ann", "nb:999:1")
    assert "The radius must be between 1 and 200 km." in forged.text


async def test_nearby_crosses_the_antimeridian(chat: Chat) -> None:
    """Fiji: 179.95 E and 179.98 W are 7 km apart, though their longitudes are far apart."""
    await group(chat, "Maya", "Hiking")
    await activity(chat, "Maya", "hiking", "East of the line", at=(-17.80, -179.98))
    await activity(chat, "Maya", "hiking", "West of the line", at=(-17.80, 179.97))
    await locate(chat, "Ann", (-17.80, 179.95))
    assert sorted(await nearby_titles(chat, "Ann")) == ["East of the line", "West of the line"]
    await locate(chat, "Bob", (-17.80, -179.98))
    assert sorted(await nearby_titles(chat, "Bob")) == ["East of the line", "West of the line"]


async def test_private_groups_activities_only_for_members_and_banned_see_nothing(
    chat: Chat,
) -> None:
    secret = await group(chat, "Maya", "Secret | | | private")
    await group(chat, "Maya", "Hiking")
    await activity(chat, "Maya", "secret", "Secret walk", at=north(1))
    await activity(chat, "Maya", "hiking", "Open walk", at=north(2))
    for name in ("Ann", "Bob", "Olga"):
        await locate(chat, name)
    await join_private(chat, "Maya", "Ann", secret)
    await join(chat, "Bob", "hiking")

    assert sorted(await nearby_titles(chat, "Ann")) == ["Open walk", "Secret walk"]
    assert await nearby_titles(chat, "Olga") == ["Open walk"]
    assert "Secret" not in (await chat.say("Olga", "/nearby")).text

    pending = "Pat"
    await locate(chat, pending)
    await chat.say(pending, "/join secret")  # a request is not membership
    assert await nearby_titles(chat, pending) == ["Open walk"]

    assert "is banned" in (await chat.say("Maya", "/ban hiking Bob")).text
    assert await nearby_titles(chat, "Bob") == []  # a public group, but banned from it
    assert "Open walk" not in (await chat.say("Bob", "/nearby")).text
    banned = await recommended(chat, "Bob")
    assert "Hiking" not in [p.group.name for p in banned.groups]
    assert not banned.events and not banned.posts


async def test_cancelled_and_past_activities_are_not_nearby(chat: Chat) -> None:
    await group(chat, "Maya", "Hiking")
    cancelled = await activity(chat, "Maya", "hiking", "Called off")
    await activity(chat, "Maya", "hiking", "Tomorrow", in_days=1)
    await activity(chat, "Maya", "hiking", "Next week", in_days=7)
    assert "cancelled" in (await chat.say("Maya", f"/cancelevent {cancelled}")).text.lower()
    await locate(chat, "Ann")
    assert sorted(await nearby_titles(chat, "Ann")) == ["Next week", "Tomorrow"]
    chat.services.clock.advance(2 * DAY)  # type: ignore[attr-defined]
    assert await nearby_titles(chat, "Ann") == ["Next week"]


def test_popularity_grows_with_each_term() -> None:
    base = {"confirmed": 2, "heat": 1.0, "capacity": 10, "days": 5.0}
    score = discovery.popularity(**base, nearness=0.5)  # type: ignore[arg-type]
    changes = {
        "confirmed": 3,
        "heat": 2.0,
        "capacity": 4,
        "days": 1.0,
    }
    for name, value in changes.items():
        assert discovery.popularity(**{**base, name: value}, nearness=0.5) > score, name  # type: ignore[arg-type]
    assert discovery.popularity(**base, nearness=0.9) > score  # type: ignore[arg-type]
    # Past the start, "soon" does not grow any more; no capacity means no fill bonus.
    assert discovery.popularity(2, 1.0, 10, -1.0) == discovery.popularity(2, 1.0, 10, 0.0)
    assert discovery.popularity(5, 0, None, 1.0) < discovery.popularity(5, 0, 10, 1.0)


async def test_ranking_each_term_on_its_own(chat: Chat) -> None:
    """Pairs of activities that differ in one thing only: the better one ranks first."""
    clock = chat.services.clock
    await group(chat, "Maya", "Hiking")
    people = [f"P{n}" for n in range(5)]
    for name in people:
        await join(chat, name, "hiking")
    await locate(chat, "Ann")
    spot = north(3)

    # More sign-ups (all old), against fewer: same time, place and (no) capacity.
    many = await activity(chat, "Maya", "hiking", "Many", at=spot, in_days=10)
    few = await activity(chat, "Maya", "hiking", "Few", at=spot, in_days=10)
    # Speed: the same number of sign-ups, but Fresh's are recent.
    fresh = await activity(chat, "Maya", "hiking", "Fresh", at=spot, in_days=10)
    stale = await activity(chat, "Maya", "hiking", "Stale", at=spot, in_days=10)
    for name in people[:3]:
        await sign_up(chat, name, many)
    await sign_up(chat, people[0], few)
    for name in people[:2]:
        await sign_up(chat, name, stale)
    clock.advance(3 * DAY)  # type: ignore[attr-defined]
    for name in people[:2]:
        await sign_up(chat, name, fresh)

    titles = await nearby_titles(chat, "Ann")
    assert titles.index("Many") < titles.index("Few")
    assert titles.index("Fresh") < titles.index("Stale")

    ann = await chat.person_id("Ann")
    async with chat.services.db.uow(readonly=True) as uow:
        page = await discovery.nearby(uow, clock, ann, *HOME, discovery.MAX_RADIUS_KM)
    scores = {item.view.event.title: item.score for item in page.items}
    assert scores["Many"] > scores["Few"] and scores["Fresh"] > scores["Stale"]


async def test_ranking_fuller_sooner_nearer(chat: Chat) -> None:
    await group(chat, "Maya", "Hiking")
    for name in ("P1", "P2"):
        await join(chat, name, "hiking")
    await locate(chat, "Ann")
    spot = north(3)
    fuller = await activity(chat, "Maya", "hiking", "Fuller", at=spot, capacity=2, in_days=6)
    roomy = await activity(chat, "Maya", "hiking", "Roomy", at=spot, capacity=20, in_days=6)
    for name in ("P1", "P2"):
        await sign_up(chat, name, fuller)
        await sign_up(chat, name, roomy)
    assert await nearby_titles(chat, "Ann") == ["Fuller", "Roomy"]

    await group(chat, "Maya", "Cycling")
    await locate(chat, "Bob", (10.0, 10.0))
    await activity(chat, "Maya", "cycling", "Later", at=(10.0, 10.03), in_days=20)
    await activity(chat, "Maya", "cycling", "Sooner", at=(10.0, 10.03), in_days=2)
    await activity(chat, "Maya", "cycling", "Farther", at=(10.0, 10.07), in_days=20)
    await activity(chat, "Maya", "cycling", "Nearer", at=(10.0, 10.005), in_days=20)
    titles = await nearby_titles(chat, "Bob")
    assert titles.index("Sooner") < titles.index("Later")
    assert titles.index("Nearer") < titles.index("Farther")
    assert titles.index("Nearer") < titles.index("Later") < titles.index("Farther")


async def test_nearby_pages_and_sign_up_from_the_list(chat: Chat) -> None:
    await group(chat, "Maya", "Hiking")
    for n in range(7):
        await activity(chat, "Maya", "hiking", f"Walk {n}", at=north(1 + n), in_days=2 + n)
    await locate(chat, "Ann")

    first = await chat.say("Ann", "/nearby")
    assert "1/2" in first.text
    assert sum(f"Walk {n}" in first.text for n in range(7)) == discovery.PAGE_SIZE
    [forward] = payloads(first, Act.NEARBY)
    assert forward == "nb:10:2"
    second = await chat.click("Ann", forward)
    assert second.edit and "2/2" in second.text
    assert sum(f"Walk {n}" in second.text for n in range(7)) == 7 - discovery.PAGE_SIZE
    assert payloads(second, Act.NEARBY) == ["nb:10:1"]
    assert "2/2" in (await chat.click("Ann", "nb:10:99")).text  # past the end: the last page

    [sign_up_payload, *_] = payloads(first, Act.SIGN_UP)
    signed = await chat.click("Ann", sign_up_payload)
    assert signed.toast == "You're in!"


# ---- /recommend ----------------------------------------------------------------------------


async def test_co_membership_ranks_groups_and_joined_groups_are_never_recommended(
    chat: Chat,
) -> None:
    await group(chat, "Maya", "Hiking")
    await group(chat, "Maya", "Cycling")
    await group(chat, "Maya", "Chess")
    await group(chat, "Maya", "Secret | | | private")
    for name in ("P1", "P2", "P3"):
        await join(chat, name, "hiking")
        await join(chat, name, "cycling")
    await join(chat, "P1", "chess")
    await join(chat, "Ann", "hiking")

    found = await recommended(chat, "Ann")
    names = [pick.group.name for pick in found.groups]
    assert names[:2] == ["Cycling", "Chess"]
    assert "Hiking" not in names and "Secret" not in names
    cycling = found.groups[0]
    assert (cycling.reason, cycling.shared) == ("co_members", 4)  # P1-P3, and Maya

    reply = await chat.say("Ann", "/recommend")
    assert "Cycling · 4 people from your groups are here" in reply.text
    assert "Join Hiking" not in everything(reply)

    await join(chat, "Ann", "cycling")
    assert "Cycling" not in [p.group.name for p in (await recommended(chat, "Ann")).groups]


async def test_private_groups_are_never_recommended_and_do_not_take_a_place(
    chat: Chat,
) -> None:
    """Everyone in Hiking is also in the private Secret: it must not crowd out public groups."""
    secret = await group(chat, "Maya", "Secret | | outdoors | private")
    await group(chat, "Maya", "Hiking")
    await group(chat, "Zoe", "Cycling")
    await group(chat, "Zoe", "Chess")
    await group(chat, "Zoe", "Photo")
    for name in ("P1", "P2", "P3", "P4"):
        await join(chat, name, "hiking")
        await join_private(chat, "Maya", name, secret)
    await join(chat, "P1", "cycling")
    await join(chat, "Ann", "hiking")
    await interests(chat, "Ann", "outdoors")

    names = [pick.group.name for pick in (await recommended(chat, "Ann")).groups]
    assert "Secret" not in names
    assert len(names) == 3, names  # Cycling by co-membership, then popular ones fill up
    assert names[0] == "Cycling"

    await chat.say("Olga", "/interests outdoors")
    cold = [pick.group.name for pick in (await recommended(chat, "Olga")).groups]
    assert "Secret" not in cold


async def test_interests_and_tags_and_cold_start(chat: Chat) -> None:
    await group(chat, "Maya", "Hiking | Walks | hiking, outdoors")
    await group(chat, "Maya", "Photo Walks | | photography")
    await group(chat, "Maya", "Board Games | | games")
    for name in ("P1", "P2", "P3"):
        await join(chat, name, "hiking")
    await join(chat, "P1", "board-games")

    cold = await recommended(chat, "Newbie")
    assert cold.ask_interests
    assert [p.group.name for p in cold.groups] == ["Hiking", "Board Games", "Photo Walks"]
    assert all(p.reason == "popular" for p in cold.groups)
    reply = await chat.say("Newbie", "/recommend")
    assert "Tell me what you like with /interests" in reply.text

    await interests(chat, "Newbie", "Photography, #cooking")
    assert "photography, cooking" in (await chat.say("Newbie", "/interests")).text
    stated = await recommended(chat, "Newbie")
    assert not stated.ask_interests  # issue #12: the hint went on after /interests was set
    assert "Tell me what you like" not in (await chat.say("Newbie", "/recommend")).text
    assert stated.groups[0].group.name == "Photo Walks"
    assert (stated.groups[0].reason, stated.groups[0].shared) == ("tags", 1)
    assert "Photo Walks · matches your interests" in (await chat.say("Newbie", "/recommend")).text

    # A member's groups' tags count as interests too: Hiking's "outdoors" finds Trails.
    await group(chat, "Zoe", "Trails | | outdoors")
    await join(chat, "Bob", "hiking")
    found = await recommended(chat, "Bob")
    assert "Trails" in [p.group.name for p in found.groups]


async def test_an_interest_of_several_words_stays_whole(chat: Chat) -> None:
    """'/interests hiking, board games, 🎲' saved "hiking, board, games, 🎲"; too many spoke of
    a group's tags. A phrase still meets a group by its words."""
    await group(chat, "Maya", "Board Games | | games")
    saved = await chat.say("Ann", "/interests hiking, Board  Games, 🎲")
    assert saved.text == "Interests saved: hiking, board games, 🎲"
    assert "Board Games · matches your interests" in (await chat.say("Ann", "/recommend")).text
    words = await chat.say("Ann", "/interests hiking cycling")  # no commas: a word each
    assert words.text == "Interests saved: hiking, cycling"
    many = await chat.say("Ann", "/interests " + ",".join(f"tag{n}" for n in range(200)))
    assert "You can have at most 10 interests." in many.text
    assert "Your interests: hiking, cycling." in (await chat.say("Ann", "/interests")).text


async def test_interests_none_or_clear_clears_them(chat: Chat) -> None:
    """'/interests none' saved "none" as an interest, '/interests clear' "clear"."""
    for word in ("none", "clear", "None", "-"):
        await interests(chat, "Ann", "hiking, cycling")
        reply = await chat.say("Ann", f"/interests {word}")
        assert reply.text == "Interests cleared.", word
        shown = await chat.say("Ann", "/interests")
        assert shown.text == "Your interests: none yet. Change them: /interests hiking, cycling"
        assert (await recommended(chat, "Ann")).ask_interests


async def test_stated_interests_count_even_in_groups_with_many_tags(chat: Chat) -> None:
    await group(
        chat, "Maya", "Everything | | alpha, beta, gamma, delta, epsilon, eta, iota, kappa, mu, nu"
    )
    await group(chat, "Zoe", "Zumba | | zumba")
    await join(chat, "Ann", "everything")
    await interests(chat, "Ann", "zumba")
    picks = (await recommended(chat, "Ann")).groups
    assert (picks[0].group.name, picks[0].reason) == ("Zumba", "tags")


async def test_nearby_and_companions_are_not_answered_in_a_group_chat(chat: Chat) -> None:
    """They show distances from the person's home and other people's details."""
    await group(chat, "Maya", "Hiking")
    await activity(chat, "Maya", "hiking", "Walk", at=north(1.3))
    await join(chat, "Ann", "hiking")
    await discoverable(chat, "Ann", "Maya")
    await locate(chat, "Ann")
    ctx = await chat.context("Ann")
    ctx.in_group_chat = True
    for reply in (
        await handle_text(ctx, "/nearby"),
        await handle_text(ctx, "/companions"),
        await handle_action(ctx, "nb:10:1"),
    ):
        assert "Send me /" in reply.text and "in a private chat" in reply.text
        assert "1.3 km" not in reply.text and "Maya" not in reply.text
    assert "1.3 km" in (await chat.say("Ann", "/nearby")).text  # in private: as usual


async def test_dismissed_groups_posts_and_activities_are_not_suggested_again(chat: Chat) -> None:
    await group(chat, "Maya", "Hiking")
    await group(chat, "Maya", "Cycling")
    await join(chat, "P1", "hiking")
    await join(chat, "P1", "cycling")
    await join(chat, "Ann", "hiking")
    await chat.say("P1", "/post hiking Trail report from the ridge")
    walk = await activity(chat, "Maya", "hiking", "Ridge walk")

    first = await chat.say("Ann", "/recommend")
    text = first.text
    assert "Cycling" in text and "Trail report" in text and "Ridge walk" in text
    dismissals = payloads(first, Act.DISMISS)
    cycling = next(p for p in dismissals if p.startswith("dm:1:"))
    post = next(p for p in dismissals if p.startswith("dm:2:"))
    event = f"dm:3:{walk}"
    assert event in dismissals

    after = await chat.click("Ann", cycling)
    assert after.edit and after.toast == "OK, I won't suggest that again."
    assert "Cycling" not in after.text and "Trail report" in after.text
    after = await chat.click("Ann", post)
    assert "Trail report" not in after.text and "Ridge walk" in after.text
    after = await chat.click("Ann", event)
    assert "Ridge walk" not in after.text
    assert (await chat.click("Ann", event)).toast == "OK, I won't suggest that again."  # twice
    found = await recommended(chat, "Ann")
    assert not found.posts and not found.events
    assert "Cycling" not in [p.group.name for p in found.groups]

    bad = await chat.click("Ann", "dm:9:1")
    assert "That can't be dismissed." in bad.text


async def test_hot_posts_decay_with_time_and_engagement_can_beat_recency(chat: Chat) -> None:
    clock = chat.services.clock
    await group(chat, "Maya", "Hiking")
    for name in ("Ann", "P1", "P2", "P3"):
        await join(chat, name, "hiking")
    db = chat.services.db

    async def post(body: str) -> int:
        author = await chat.person_id("P1")
        async with db.uow() as uow:
            created = await posts.create_post(uow, clock, author, "hiking", body)
        return created.post.id  # type: ignore[return-value]

    async def like(who: str, post_id: int) -> None:
        me = await chat.person_id(who)
        async with db.uow() as uow:
            await posts.toggle_like(uow, me, post_id)

    async def reply(who: str, post_id: int) -> None:
        me = await chat.person_id(who)
        async with db.uow() as uow:
            await posts.reply(uow, clock, me, post_id, "Nice")

    older = await post("Older")
    clock.advance(2 * HOUR)  # type: ignore[attr-defined]
    newer = await post("Newer")
    await like("P2", older)
    await like("P2", newer)
    ranked = [p.id for p, *_ in (await recommended(chat, "Ann")).posts]
    assert ranked == [newer, older]  # equal engagement: the newer one

    for who in ("P2", "P3", "Maya"):
        await reply(who, older)
    ranked = [
        (p.id, likes, replies) for p, _, _, likes, replies in (await recommended(chat, "Ann")).posts
    ]
    assert ranked == [(older, 1, 3), (newer, 1, 0)]  # much more talked about beats 2 hours

    mine = await chat.say("Ann", "/post hiking My own post")
    assert "⚠️" not in mine.text
    assert "My own post" not in (await chat.say("Ann", "/recommend")).text  # not your own
    clock.advance(31 * DAY)  # type: ignore[attr-defined]
    assert (await recommended(chat, "Ann")).posts == []  # a month old: not hot any more


async def test_recommended_activities_skip_signed_up_private_and_past(chat: Chat) -> None:
    secret = await group(chat, "Maya", "Secret | | | private")
    await group(chat, "Maya", "Hiking")
    await join(chat, "Ann", "hiking")
    going = await activity(chat, "Maya", "hiking", "Already going")
    await activity(chat, "Maya", "hiking", "Fresh idea")
    await activity(chat, "Maya", "hiking", "Soon over", in_days=0.5)
    await activity(chat, "Maya", "secret", "Members only")
    await sign_up(chat, "Ann", going)
    titles = [v.event.title for v in (await recommended(chat, "Ann")).events]
    assert "Already going" not in titles and "Members only" not in titles
    assert "Fresh idea" in titles and "Soon over" in titles
    chat.services.clock.advance(DAY)  # type: ignore[attr-defined]
    titles = [v.event.title for v in (await recommended(chat, "Ann")).events]
    assert titles == ["Fresh idea"]
    await join_private(chat, "Maya", "Ann", secret)
    titles = [v.event.title for v in (await recommended(chat, "Ann")).events]
    assert sorted(titles) == ["Fresh idea", "Members only"]


# ---- /companions ---------------------------------------------------------------------------


async def test_companions_need_you_to_be_discoverable_and_list_only_discoverable(
    chat: Chat,
) -> None:
    await group(chat, "Maya", "Hiking")
    for name in ("Ann", "Bob", "Cat"):
        await join(chat, name, "hiking")
    reply = await chat.say("Ann", "/companions")
    assert "Companions are for people who show themselves too" in reply.text
    ann = await chat.person_id("Ann")
    async with chat.services.db.uow(readonly=True) as uow:
        await refused("companions_opt_in", discovery.companions(uow, ann))

    await discoverable(chat, "Ann")
    empty = await chat.say("Ann", "/companions")
    assert "Nobody yet: people appear here when they share a group with you" in empty.text
    await discoverable(chat, "Bob")
    assert await companion_names(chat, "Ann") == ["Bob"]
    listed = await chat.say("Ann", "/companions")
    assert "Bob" in listed.text and "Cat" not in listed.text and "Maya" not in listed.text

    assert "hidden" in (await chat.say("Bob", "/settings discoverable off")).text
    assert await companion_names(chat, "Ann") == []
    assert "Discoverable in /companions: off" in (await chat.say("Bob", "/settings")).text


async def test_companions_ranked_by_interests_then_groups_then_distance(chat: Chat) -> None:
    await group(chat, "Maya", "Hiking")
    await group(chat, "Maya", "Cycling")
    everyone = ("Ann", "Iris", "Gus", "Nia", "Dan")
    for name in everyone:
        await join(chat, name, "hiking")
    await join(chat, "Ann", "cycling")
    await join(chat, "Gus", "cycling")
    await discoverable(chat, *everyone)
    await interests(chat, "Ann", "chess, birds")
    await interests(chat, "Iris", "birds")  # a shared interest
    await locate(chat, "Ann")
    await locate(chat, "Nia", north(2))  # near, but only Hiking in common
    await locate(chat, "Dan", north(40))  # far
    await locate(chat, "Gus", north(45))

    assert await companion_names(chat, "Ann") == ["Iris", "Gus", "Nia", "Dan"]
    ann = await chat.person_id("Ann")
    async with chat.services.db.uow(readonly=True) as uow:
        iris, gus, nia, _ = await discovery.companions(uow, ann)
    assert iris.shared_interests == ["birds"] and iris.shared_groups == ["Hiking"]
    assert gus.shared_groups == ["Cycling", "Hiking"]
    assert iris.distance_km is None and round(nia.distance_km or 0) == 2  # Iris set no location

    reply = await chat.say("Ann", "/companions")
    assert "Iris · birds, Hiking" in reply.text and "Nia · Hiking · under 5 km" in reply.text


async def test_companions_scoped_to_a_group_or_an_activity(chat: Chat) -> None:
    await group(chat, "Maya", "Hiking")
    await group(chat, "Maya", "Cycling")
    secret = await group(chat, "Maya", "Secret | | | private")
    for name in ("Ann", "Bob", "Cat", "Dan"):
        await join(chat, name, "hiking")
    await join(chat, "Ann", "cycling")
    await join(chat, "Cat", "cycling")
    await discoverable(chat, "Ann", "Bob", "Cat", "Dan")
    walk = await activity(chat, "Maya", "hiking", "Walk")
    await sign_up(chat, "Bob", walk)
    await sign_up(chat, "Ann", walk)

    assert await companion_names(chat, "Ann") == ["Cat", "Bob", "Dan"]
    assert await companion_names(chat, "Ann", "cycling") == ["Cat"]
    assert await companion_names(chat, "Ann", str(walk)) == ["Bob"]
    assert await companion_names(chat, "Ann", f"#{walk}") == ["Bob"]
    assert "Bob" in (await chat.say("Ann", f"/companions {walk}")).text

    secret_walk = await activity(chat, "Maya", "secret", "Secret walk")
    outsider = await chat.say("Ann", f"/companions {secret_walk}")
    assert "private group" in outsider.text
    assert "private group" in (await chat.say("Ann", "/companions secret")).text
    assert f"No activity #{secret}" in (await chat.say("Ann", f"/companions {secret}")).text
    assert "Join Cycling first" in (await chat.say("Bob", "/companions cycling")).text
    assert "No activity #999" in (await chat.say("Ann", "/companions 999")).text
    assert "No group called" in (await chat.say("Ann", "/companions nowhere")).text
    odd = await chat.say("Ann", "/companions ²")  # a digit to Python, not a number
    assert "Something went wrong" not in odd.text


async def test_say_hi_consent_before_any_handle(chat: Chat, sent: RecordingNotifier) -> None:
    await group(chat, "Maya", "Hiking")
    for name in ("Ann", "Bob", "Eve"):
        await join(chat, name, "hiking")
    await discoverable(chat, "Ann", "Bob", "Eve")
    ann, bob = await chat.person_id("Ann"), await chat.person_id("Bob")

    listed = await chat.say("Ann", "/companions")
    assert "_handle" not in everything(listed)
    hi = next(p for p in payloads(listed, Act.HELLO) if p == f"hi:{bob}")
    said = await chat.click("Ann", hi)
    assert said.toast == "Sent. If they accept, you'll both get each other's handle."
    assert "_handle" not in everything(said)
    [(to, card)] = sent.sent
    assert to == "bob"
    assert "Ann would like to say hi." in card.text
    assert "_handle" not in card.text and "@" not in card.text
    labels = [b.label for row in card.buttons for b in row]
    assert any("Accept" in label for label in labels) and any(
        "Decline" in label for label in labels
    )
    accept = next(b.action for row in card.buttons for b in row if "Accept" in b.label)
    assert accept is not None
    accept_payload = f"ha:{accept.id}"

    again = await chat.click("Ann", hi)
    assert "You already said hi to Bob." in again.text
    assert len(sent.sent) == 1

    # Nobody else can answer it: not the sender, not a third person.
    for who in ("Eve", "Ann"):
        stolen = await chat.click(who, accept_payload)
        assert "No pending request" in stolen.text and "_handle" not in everything(stolen)
    assert len(sent.sent) == 1
    async with chat.services.db.uow(readonly=True) as uow:
        hello = await uow.session.get(Hello, accept.id)
        assert hello.status == HelloStatus.PENDING  # type: ignore[union-attr]
        await refused("request_not_found", discovery.answer_hi(uow, ann, accept.id, True))

    accepted = await chat.click("Bob", accept_payload)
    assert accepted.edit
    assert "You can reach Ann at @ann_handle (test)." in accepted.text
    assert "bob_handle" not in accepted.text
    [(to, card)] = sent.sent[1:]
    assert to == "ann"
    assert "Bob accepted your hi." in card.text and "@bob_handle" in card.text
    assert "ann_handle" not in card.text
    assert "You already answered that." in (await chat.click("Bob", accept_payload)).text


async def _hello(chat: Chat, sender: str, receiver: str) -> int:
    """The id of the hi `sender` said to `receiver` (what its buttons carry)."""
    people = [await chat.person_id(sender), await chat.person_id(receiver)]
    async with chat.services.db.uow(readonly=True) as uow:
        found = select(Hello.id).where(Hello.from_person == people[0], Hello.to_person == people[1])
        return (await uow.session.exec(found)).one()  # type: ignore[return-value]


async def test_a_hi_and_its_acceptance_are_told_once_by_a_later_process(
    chat: Chat, sent: RecordingNotifier
) -> None:
    """A hi, and its acceptance, commit with the duty to tell: a process that dies right after
    answering leaves the notice to whichever process runs next, which tells it once. A hi
    answered, or cut by a block, before it was told is not told."""
    await group(chat, "Maya", "Hiking")
    for name in ("Ann", "Bob", "Cat", "Dan"):
        await join(chat, name, "hiking")
    await discoverable(chat, "Ann", "Bob", "Cat", "Dan")
    ann, bob, dan = [await chat.person_id(name) for name in ("Ann", "Bob", "Dan")]

    said = await chat.unattended("Ann", f"hi:{bob}")
    assert said.toast == "Sent. If they accept, you'll both get each other's handle."
    assert sent.sent == []  # committed; the process "died" here
    assert await NoticeWorker(chat.services, worker="next process").run_due() == 1
    [(to, card)] = sent.sent
    assert to == "bob" and card.text.startswith("Ann would like to say hi.")
    hello = await _hello(chat, "Ann", "Bob")
    actions = [(b.action.act, b.action.args) for row in card.buttons for b in row]  # type: ignore[union-attr]
    assert actions == [
        (Act.ACCEPT_HELLO, (hello,)),
        (Act.DECLINE_HELLO, (hello,)),
        (Act.BLOCK, (ann,)),
    ]
    assert await NoticeWorker(chat.services, worker="and another").run_due() == 0  # not twice

    sent.sent.clear()
    accepted = await chat.unattended("Bob", f"ha:{hello}")
    assert "You can reach Ann at @ann_handle (test)." in accepted.text
    assert sent.sent == []
    assert await NoticeWorker(chat.services, worker="next process").run_due() == 1
    assert sent.texts_to("ann") == [
        "Bob accepted your hi. You can reach Bob at @bob_handle (test)."
    ]
    assert await NoticeWorker(chat.services, worker="and another").run_due() == 0

    # before any worker runs: Cat's hi is declined, Dan's is cut by a block; Dan accepts a hi
    # from Ann, then blocks her: nobody is told anything
    sent.sent.clear()
    await chat.unattended("Cat", f"hi:{bob}")
    await chat.unattended("Bob", f"hd:{await _hello(chat, 'Cat', 'Bob')}")
    await chat.unattended("Dan", f"hi:{bob}")
    await chat.unattended("Bob", f"bk:{dan}")
    await chat.click("Ann", f"hi:{dan}")  # told at once
    sent.sent.clear()
    await chat.unattended("Dan", f"ha:{await _hello(chat, 'Ann', 'Dan')}")
    await chat.unattended("Dan", f"bk:{ann}")
    assert await NoticeWorker(chat.services).run_due() == 0
    assert sent.sent == []


async def test_declining_shares_nothing(chat: Chat, sent: RecordingNotifier) -> None:
    await group(chat, "Maya", "Hiking")
    await join(chat, "Ann", "hiking")
    await join(chat, "Bob", "hiking")
    await discoverable(chat, "Ann", "Bob")
    await chat.click("Ann", f"hi:{await chat.person_id('Bob')}")
    [(_, card)] = sent.sent
    decline = next(b.action for row in card.buttons for b in row if "Decline" in b.label)
    declined = await chat.click("Bob", f"hd:{decline.id}")  # type: ignore[union-attr]
    assert declined.edit and "Declined. Nothing was shared." in declined.text
    assert "_handle" not in everything(declined)
    assert len(sent.sent) == 1  # Ann is not told anything
    assert "You already answered that." in (await chat.click("Bob", f"ha:{decline.id}")).text  # type: ignore[union-attr]
    for _, card in sent.sent:
        assert "_handle" not in card.text


async def test_say_hi_needs_both_opted_in_and_something_in_common(chat: Chat) -> None:
    await group(chat, "Maya", "Hiking")
    await group(chat, "Zoe", "Chess")
    await join(chat, "Ann", "hiking")
    await join(chat, "Bob", "hiking")
    await join(chat, "Sam", "chess")
    ann, bob, sam = [await chat.person_id(n) for n in ("Ann", "Bob", "Sam")]

    refused_text = (await chat.click("Ann", f"hi:{bob}")).text
    assert "Companions are for people who show themselves too" in refused_text
    await discoverable(chat, "Ann")
    assert "Nobody called" in (await chat.click("Ann", f"hi:{bob}")).text  # Bob did not opt in
    assert "Nobody called" in (await chat.click("Ann", f"hi:{ann}")).text  # yourself
    assert "Nobody called" in (await chat.click("Ann", "hi:99999")).text
    await discoverable(chat, "Sam")
    # Sam shares no group or activity with Ann: a forged button can't reach him.
    assert "Nobody called" in (await chat.click("Ann", f"hi:{sam}")).text
    async with chat.services.db.uow(readonly=True) as uow:
        assert (await uow.session.exec(select(Hello))).all() == []
    # Once Sam has a seat on an activity Ann can see, /companions <activity> lists him.
    walk = await activity(chat, "Maya", "hiking", "Walk")
    await sign_up(chat, "Sam", walk)
    assert await companion_names(chat, "Ann", str(walk)) == ["Sam"]
    assert "Sent." in (await chat.click("Ann", f"hi:{sam}")).text


async def test_forged_buttons_are_refused_not_crashes(chat: Chat) -> None:
    """Ids beyond any row (and beyond PostgreSQL's integer) are answered, never a 500."""
    await group(chat, "Maya", "Hiking")
    await join(chat, "Ann", "hiking")
    await discoverable(chat, "Ann")
    await locate(chat, "Ann")
    huge = 2**40
    for payload in ("hi", "ha", "hd", "bk", "ab", "dm:1", "dm:3", "nb:10"):
        reply = await chat.click("Ann", f"{payload}:{huge}")
        assert "Something went wrong" not in everything(reply), payload
    for scope in (str(huge), f"#{huge}", "123456789012345"):
        reply = await chat.say("Ann", f"/companions {scope}")
        assert "No activity" in reply.text, scope


async def test_blocks_hide_people_both_ways(chat: Chat, sent: RecordingNotifier) -> None:
    await group(chat, "Maya", "Hiking")
    for name in ("Ann", "Bob", "Cat"):
        await join(chat, name, "hiking")
    await discoverable(chat, "Ann", "Bob", "Cat")
    bob = await chat.person_id("Bob")
    await chat.click("Bob", f"hi:{await chat.person_id('Ann')}")  # pending when Ann blocks

    blocked = await chat.click("Ann", f"bk:{bob}")
    assert "Blocked" in blocked.text
    assert await companion_names(chat, "Ann") == ["Cat"]
    assert await companion_names(chat, "Bob") == ["Cat"]
    assert "Nobody called" in (await chat.click("Bob", f"hi:{await chat.person_id('Ann')}")).text
    assert "Nobody called" in (await chat.click("Ann", f"hi:{bob}")).text
    async with chat.services.db.uow(readonly=True) as uow:
        [hello] = (await uow.session.exec(select(Hello))).all()
    assert hello.status == HelloStatus.DECLINED  # the pending hi can't be accepted any more
    assert "You already answered that." in (await chat.click("Ann", f"ha:{hello.id}")).text
    assert "_handle" not in " ".join(card.text for _, card in sent.sent)

    assert (
        "can't block yourself"
        in (await chat.click("Ann", f"bk:{await chat.person_id('Ann')}")).text
    )
    assert "Blocked" in (await chat.click("Ann", f"bk:{bob}")).text  # twice is fine
    forged = await chat.click("Ann", "bk:99999")
    assert "Something went wrong" not in forged.text


async def test_a_block_can_be_undone(chat: Chat) -> None:
    """Blocking (or reporting) someone could not be undone: no command listed whom."""
    await group(chat, "Maya", "Hiking")
    for name in ("Ann", "Bob", "Cat"):
        await join(chat, name, "hiking")
    await discoverable(chat, "Ann", "Bob", "Cat")
    bob = await chat.person_id("Bob")
    assert (await chat.say("Ann", "/blocked")).text == "You haven't blocked anyone."
    blocked = await chat.click("Ann", f"bk:{bob}")
    assert blocked.text.endswith("To undo it: /blocked")
    listed = await chat.say("Ann", "/blocked")
    assert [b.label for c in listed.cards for row in c.buttons for b in row] == ["Unblock Bob"]
    undone = await chat.click("Ann", f"ub:{bob}")
    assert undone.toast == "Unblocked Bob: you may see each other in discovery again."
    assert await companion_names(chat, "Ann") == ["Bob", "Cat"]
    assert (await chat.click("Ann", f"ub:{bob}")).toast == "You haven't blocked that person."
    assert "went wrong" not in (await chat.click("Ann", "ub:99999")).text


async def test_report_records_and_blocks(chat: Chat) -> None:
    await group(chat, "Maya", "Hiking")
    for name in ("Ann", "Bob"):
        await join(chat, name, "hiking")
    await discoverable(chat, "Ann", "Bob")
    ann, bob = await chat.person_id("Ann"), await chat.person_id("Bob")
    listed = await chat.say("Ann", "/companions")
    assert f"ab:{bob}" in payloads(listed, Act.REPORT)

    reported = await chat.click("Ann", f"ab:{bob}")  # no OPERATOR_IDS here: nobody to tell
    assert reported.text == (
        "Blocked, and your report is kept; this community has no operators yet to read it."
    )
    async with chat.services.db.uow(readonly=True) as uow:
        [report] = (await uow.session.exec(select(Report))).all()
        [block] = (await uow.session.exec(select(Block))).all()
    assert (report.reporter_id, report.reported_id) == (ann, bob)
    assert report.created_at == chat.services.clock.now()
    assert (block.person_id, block.blocked_id) == (ann, bob)
    assert await companion_names(chat, "Ann") == []
    assert await companion_names(chat, "Bob") == []

    assert "Something went wrong" not in (await chat.click("Ann", "ab:99999")).text
    self_report = await chat.click("Ann", f"ab:{ann}")
    assert "can't report yourself" in self_report.text
    async with chat.services.db.uow(readonly=True) as uow:
        assert len((await uow.session.exec(select(Report))).all()) == 1


async def test_companion_distances_are_coarse_and_personal_lists_stay_private(chat: Chat) -> None:
    """An exact distance would let anyone triangulate a companion's home; and a group chat
    must not show anyone's suggestions or interests."""
    await chat.say("maya", "/newgroup Hiking")
    for who, where in (("ann", "52.5200, 13.4050"), ("bo", "52.5300, 13.4100")):
        await chat.say(who, "/join hiking")
        await chat.say(who, "/settings discoverable on")
        await chat.say(who, f"/setlocation {where}")
    text = (await chat.say("ann", "/companions")).text
    assert "under 5 km" in text and "1 km" not in text
    ctx = await chat.context("ann")
    ctx.in_group_chat = True
    from core.chat import handle_text

    for command in ("/recommend", "/interests", "/nearby", "/companions"):
        assert "in a private chat" in (await handle_text(ctx, command)).text


# ---- /nearby as the bot runs it: through the process's area cache --------------------------


async def shown(chat: Chat, who: str, radius: float = 10) -> list[str]:
    """The titles /nearby shows, read as the chat command reads them (with Services.areas)."""
    return sorted(await nearby_titles(chat, who, radius, areas=chat.services.areas))


async def test_changes_made_elsewhere_reach_nearby_within_the_cache_ttl(chat: HandleChat) -> None:
    await group(chat, "Maya", "Hiking")
    await locate(chat, "Ann")
    await activity(chat, "Maya", "hiking", "First", at=north(2))
    assert await shown(chat, "Ann") == ["First"]
    other_process = Database(chat.services.db.url)
    try:
        await activity(chat, "Maya", "hiking", "Second", at=north(3), db=other_process)
    finally:
        await other_process.dispose()
    assert await shown(chat, "Ann") == ["First"]
    chat.services.clock.advance(chat.services.areas.ttl + timedelta(seconds=1))  # type: ignore[attr-defined]
    assert await shown(chat, "Ann") == ["First", "Second"]


def test_an_area_read_begun_before_a_change_is_not_kept(clock) -> None:
    """/nearby read an area while an activity there was created: what it read may miss the new
    activity, so it is not kept for the next /nearby (core.recent.Recent.generation)."""
    areas = discovery.AreaCache()
    since = areas.generation  # a read starts...
    areas.forget()  # ...an activity is created meanwhile...
    areas.put((1, 2, 10.0), clock.now(), [], since)
    assert areas.get((1, 2, 10.0), clock.now()) is None  # ...the next /nearby reads again


async def test_activities_created_or_cancelled_show_on_nearby_at_once(chat: HandleChat) -> None:
    await group(chat, "Maya", "Hiking")
    await locate(chat, "Ann")
    first = await activity(chat, "Maya", "hiking", "First", at=north(2))
    assert await shown(chat, "Ann") == ["First"]
    when = (chat.services.clock.now() + 3 * DAY).strftime("%Y-%m-%d %H:%M")
    lat, lng = north(4)
    reply = await chat.say("Maya", f"/newevent hiking | Third | {when} | Hill {lat:.5f}, {lng:.5f}")
    assert "created" in reply.text, reply.text
    assert await shown(chat, "Ann") == ["First", "Third"]  # created here: shown at once
    maya = await chat.person_id("Maya")
    async with chat.services.db.uow() as uow:  # cancelled by another process
        await events.cancel_event(uow, chat.services.clock, maya, first)
    assert await shown(chat, "Ann") == ["Third"]  # never shown as if it were still on


async def test_one_cached_area_serves_each_viewer_their_own_nearby(chat: HandleChat) -> None:
    secret = await group(chat, "Maya", "Secret | private")
    await group(chat, "Maya", "Hiking")
    await join_private(chat, "Maya", "Bob", secret)
    await activity(chat, "Maya", "secret", "Members only", at=north(1))
    await activity(chat, "Maya", "hiking", "Edge", at=north(9.8))
    await locate(chat, "Bob")
    await locate(chat, "Ann")
    await locate(chat, "Carl", north(-0.3))  # the same ~1 km cell, 10.1 km from Edge
    assert await shown(chat, "Bob") == ["Edge", "Members only"]  # fills the cache
    assert await shown(chat, "Ann") == ["Edge"]  # from the cache: still not a member
    assert await shown(chat, "Carl") == []  # from the cache: still by Carl's own distance


async def test_a_companion_report_reaches_the_operators(db, clock, settings) -> None:
    """Reports from the companions' Report button go to the people who run the community."""
    settings.operator_ids = "test:olga"
    chat = HandleChat(Services(db=db, clock=clock, settings=settings))
    await chat.say("olga", "/start")
    await group(chat, "Maya", "Hiking")
    for name in ("Ann", "Bob"):
        await join(chat, name, "hiking")
    await discoverable(chat, "Ann", "Bob")
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    reported = await chat.click("Ann", f"ab:{await chat.person_id('Bob')}")
    assert reported.toast == "Reported to the operators, and blocked. Thank you."
    assert [who for who, _ in sent.sent] == ["olga"]
    assert sent.texts_to("olga") == ["A person was reported (report #1).\nSee it with /reports"]
    assert "Bob" in (await chat.say("olga", "/reports")).text  # Ann reported Bob
    assert (await chat.say("Maya", "/reports")).text == "No open reports you can act on."


async def test_interests_of_only_marks_are_refused_and_keep_the_old_ones(chat: Chat) -> None:
    """'/interests #' cleared them: nothing was left after the marks were stripped."""
    await interests(chat, "Ann", "hiking, cycling")
    for marks in ("#", ", ,", "# #"):
        reply = await chat.say("Ann", f"/interests {marks}")
        assert "No interest in" in reply.text and "/interests hiking, cycling" in reply.text
    shown = await chat.say("Ann", "/interests")
    assert shown.text.startswith("Your interests: hiking, cycling.")


async def test_a_hi_back_asks_nobody_again(chat: Chat, sent: RecordingNotifier) -> None:
    """Bob, greeted by Ann, said hi back: Ann was asked to connect with someone she had
    asked herself (and, once connected, asked again)."""
    await group(chat, "Maya", "Hiking")
    for name in ("Ann", "Bob"):
        await join(chat, name, "hiking")
    await discoverable(chat, "Ann", "Bob")
    ann, bob = await chat.person_id("Ann"), await chat.person_id("Bob")
    await chat.click("Ann", f"hi:{bob}")
    waiting = await chat.click("Bob", f"hi:{ann}")
    assert "Ann already said hi to you: accept theirs to connect." in waiting.text
    await chat.click("Bob", f"ha:{await _hello(chat, 'Ann', 'Bob')}")
    connected = await chat.click("Bob", f"hi:{ann}")
    assert "You and Ann are already connected" in connected.text
    assert [to for to, _ in sent.sent] == ["bob", "ann"]  # the hi, then its acceptance

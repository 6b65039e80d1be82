"""A small demo community for a first run: three groups, posts, and upcoming activities.

Seeded only into an empty database (no groups at all), so it never touches real data.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import func, select

from core.clock import Clock
from core.db import Database
from core.models import Group
from core.parsing import parse_fee
from core.services import events, groups, people, posts
from core.services.events import EventDraft

PEOPLE = ("Maya", "Leo", "Sam", "Ana")
GROUPS = (
    ("Hiking", "Weekend hikes and trail tips around the city.", "hiking,outdoors,mountains"),
    ("Cycling", "Road and gravel rides for every pace.", "cycling,bikes,outdoors"),
    ("Fishing", "Quiet mornings by the lake, gear talk and spots.", "fishing,lake,outdoors"),
)
POSTS = (
    (
        "hiking",
        "Maya",
        "Guide: what to pack for a winter day hike — layers, headlamp, thermos, "
        "microspikes. Start early, days are short!",
    ),
    ("hiking", "Leo", "The ridge trail was dry last Sunday and the views were unreal."),
    ("cycling", "Sam", "Tip: check tyre pressure before every ride; 10 seconds saves a flat."),
    ("fishing", "Ana", "Caught my first pike at the north pier. Patience pays off."),
)
# group, title, days from now, local time, place, fee, capacity, who signs up
EVENTS = (
    (
        "hiking",
        "Sunrise ridge hike",
        3,
        time(7, 30),
        "Trailhead car park, 52.5200, 13.4050",
        "free",
        3,
        ("Maya", "Leo"),
    ),
    ("hiking", "Forest loop for beginners", 10, time(10, 0), "Forest station", "5 EUR", 12, ()),
    ("cycling", "Gravel ride to the lake", 5, time(9, 0), "Old bridge", "free", None, ("Sam",)),
    (
        "fishing",
        "Dawn fishing at the north pier",
        7,
        time(6, 0),
        "North pier",
        "10 EUR",
        6,
        ("Ana", "Maya"),
    ),
)


async def seed_demo(db: Database, clock: Clock, timezone: str = "UTC") -> bool:
    """Returns True when it seeded, False when the database already had groups."""
    async with db.uow(readonly=True) as uow:
        if (await uow.session.exec(select(func.count()).select_from(Group))).one():
            return False
    ids: dict[str, int] = {}
    for name in PEOPLE:
        async with db.uow() as uow:
            actor = await people.resolve_actor(
                uow, clock, platform="console", external_id=name.lower(), display_name=name
            )
        ids[name] = actor.person_id
    for name, description, tags in GROUPS:
        async with db.uow() as uow:
            await groups.create_group(
                uow,
                clock,
                ids["Maya"],
                name=name,
                description=description,
                tags=tags,
                timezone=timezone,
            )
        for person in PEOPLE[1:]:
            async with db.uow() as uow:
                await groups.join_group(uow, clock, ids[person], name)
    for slug, author, body in POSTS:
        async with db.uow() as uow:
            await posts.create_post(uow, clock, ids[author], slug, body)
    today = clock.now().astimezone(ZoneInfo(timezone)).date()
    for slug, title, days, at, place, fee, capacity, going in EVENTS:
        starts = datetime.combine(today + timedelta(days=days), at, tzinfo=ZoneInfo(timezone))
        coordinates = place.rsplit(", ", 2)[1:] if place.count(",") == 2 else None
        draft = EventDraft(
            title=title,
            starts_at=starts,
            place=place.split(",")[0],
            fee=parse_fee(fee),
            capacity=capacity,
            latitude=float(coordinates[0]) if coordinates else None,
            longitude=float(coordinates[1]) if coordinates else None,
        )
        async with db.uow() as uow:
            view = await events.create_event(uow, clock, ids["Maya"], slug, draft)
        for person in going:
            async with db.uow() as uow:
                await events.sign_up(uow, clock, ids[person], view.event.id)  # type: ignore[arg-type]
    return True

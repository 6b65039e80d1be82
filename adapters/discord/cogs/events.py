"""Activity commands: /newevent (a modal), /events, /event, /myevents, /who, /signup, /maybe,
/unsignup, /editevent, /cancelevent, the series ones, /calendar, /deliveries."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from adapters.discord.interactions import (
    answer,
    context_of,
    open_modal,
    run_command,
    send_cards,
)
from adapters.discord.options import (
    Id,
    Times,
    activity_names,
    describe,
    group_names,
    localized,
)
from core.cards import Reply
from core.chat.events import create_from_fields
from core.chat.registry import guarded
from core.i18n import Translator
from core.services import events

FIELD_NAMES = (
    "title",
    "time",
    "place",
    "fee",
    "capacity",
    "deadline",
    "description",
    "reminders",
    "guests",
    "offers",
)
EDIT_FIELDS = [app_commands.Choice(name=name, value=name) for name in FIELD_NAMES]
# a series' coming occurrences change together, but not their time (each keeps its own day)
SERIES_FIELDS = [choice for choice in EDIT_FIELDS if choice.value not in ("time", "deadline")]


class NewEventModal(discord.ui.Modal):
    """Title, time, place, fee, capacity: the same fields, parsing and errors as the
    one-line /newevent on Telegram and the console."""

    def __init__(self, group: str, t: Translator) -> None:
        super().__init__(title=t("New activity")[:45], timeout=900)
        self.group = group
        self.name = discord.ui.TextInput(label=t("Title")[:45], max_length=120)
        self.when = discord.ui.TextInput(
            label=t("Date and time (YYYY-MM-DD HH:MM)")[:45],
            placeholder="2026-12-06 09:00",
            max_length=40,
        )
        self.place = discord.ui.TextInput(label=t("Place")[:45], max_length=200)
        self.fee = discord.ui.TextInput(
            label=t("Fee")[:45], placeholder="free / 10 EUR", required=False, max_length=30
        )
        self.capacity = discord.ui.TextInput(
            label=t("Seats")[:45], placeholder="12", required=False, max_length=10
        )
        for field in (self.name, self.when, self.place, self.fee, self.capacity):
            self.add_item(field)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        fields = [f.value for f in (self.name, self.when, self.place, self.fee, self.capacity)]
        in_server = interaction.guild is not None
        await answer(  # only the confirmation is private: the card is for the whole channel
            interaction,
            lambda ctx: guarded(ctx, lambda: create_from_fields(ctx, self.group, *fields)),
            shared=in_server,
            public_live=in_server,
        )


class Events(commands.Cog):
    @app_commands.command(name="newevent", description=describe("newevent"))
    @app_commands.autocomplete(group=group_names)
    @localized
    async def newevent(self, interaction: discord.Interaction, group: str) -> None:
        """A modal must be the first response, so it cannot wait behind a deferral: only a
        quick lookup comes first, so a mistyped group, or one the person may not create
        activities in, is said before the form is filled in (not after)."""
        ctx = await context_of(interaction, shared=False)

        async def find() -> Reply:
            async with ctx.uow(readonly=True) as uow:
                await events.creating_in(uow, ctx.me, group)
            return Reply()

        checked = await guarded(ctx, find)
        if checked.cards:
            await send_cards(interaction, checked.cards, ephemeral=True, deferred=False)
            return
        await open_modal(interaction, NewEventModal(group, ctx.t))

    @app_commands.command(name="events", description=describe("events"))
    @app_commands.autocomplete(group=group_names)
    @localized
    async def events(self, interaction: discord.Interaction, group: str = "") -> None:
        await run_command(interaction, f"/events {group}")

    @app_commands.command(name="event", description=describe("event"))
    @app_commands.autocomplete(activity=activity_names)
    @localized
    async def event(self, interaction: discord.Interaction, activity: Id) -> None:
        """Posted in the channel, so others can sign up from the same card."""
        await run_command(interaction, f"/event {activity}", ephemeral=False)

    @app_commands.command(name="myevents", description=describe("myevents"))
    @localized
    async def myevents(self, interaction: discord.Interaction) -> None:
        await run_command(interaction, "/myevents")

    @app_commands.command(name="who", description=describe("who"))
    @app_commands.autocomplete(activity=activity_names)
    @localized
    async def who(self, interaction: discord.Interaction, activity: Id) -> None:
        await run_command(interaction, f"/who {activity}")

    @app_commands.command(name="checkin", description=describe("checkin"))
    @app_commands.autocomplete(activity=activity_names)
    @localized
    async def checkin(self, interaction: discord.Interaction, activity: Id) -> None:
        await run_command(interaction, f"/checkin {activity}")

    @app_commands.command(name="export", description=describe("export"))
    @app_commands.autocomplete(activity=activity_names)
    @localized
    async def export(self, interaction: discord.Interaction, activity: Id) -> None:
        await run_command(interaction, f"/export {activity}")

    @app_commands.command(name="noshows", description=describe("noshows"))
    @app_commands.autocomplete(group=group_names)
    @localized
    async def noshows(self, interaction: discord.Interaction, group: str) -> None:
        await run_command(interaction, f"/noshows {group}")

    @app_commands.command(name="repeat", description=describe("repeat"))
    @app_commands.autocomplete(activity=activity_names)
    @app_commands.choices(
        how=[
            app_commands.Choice(name=kind, value=kind)
            for kind in ("weekly", "biweekly", "monthly", "monthly-weekday")
        ]
    )
    @localized
    async def repeat(
        self,
        interaction: discord.Interaction,
        activity: Id,
        how: app_commands.Choice[str],
        times: Times | None = None,
        until: str = "",
    ) -> None:
        # both given: core refuses them (it would otherwise keep one and drop the other unsaid)
        end = (f" times {times}" if times else "") + (f" until {until}" if until else "")
        await run_command(interaction, f"/repeat {activity} {how.value}{end}")

    @app_commands.command(name="editseries", description=describe("editseries"))
    @app_commands.autocomplete(activity=activity_names)
    @app_commands.choices(field=SERIES_FIELDS)
    @localized
    async def editseries(
        self,
        interaction: discord.Interaction,
        activity: Id,
        field: app_commands.Choice[str],
        value: str = "",
    ) -> None:
        await run_command(interaction, f"/editseries {activity} {field.value} {value}")

    @app_commands.command(name="cancelseries", description=describe("cancelseries"))
    @app_commands.autocomplete(activity=activity_names)
    @localized
    async def cancelseries(self, interaction: discord.Interaction, activity: Id) -> None:
        await run_command(interaction, f"/cancelseries {activity}")

    @app_commands.command(name="joinseries", description=describe("joinseries"))
    @app_commands.autocomplete(activity=activity_names)
    @localized
    async def joinseries(self, interaction: discord.Interaction, activity: Id) -> None:
        await run_command(interaction, f"/joinseries {activity}")

    @app_commands.command(name="leaveseries", description=describe("leaveseries"))
    @app_commands.autocomplete(activity=activity_names)
    @localized
    async def leaveseries(self, interaction: discord.Interaction, activity: Id) -> None:
        await run_command(interaction, f"/leaveseries {activity}")

    @app_commands.command(name="signup", description=describe("signup"))
    @app_commands.autocomplete(activity=activity_names)
    @localized
    async def signup(self, interaction: discord.Interaction, activity: Id) -> None:
        await run_command(interaction, f"/signup {activity}")

    @app_commands.command(name="maybe", description=describe("maybe"))
    @app_commands.autocomplete(activity=activity_names)
    @localized
    async def maybe(self, interaction: discord.Interaction, activity: Id) -> None:
        await run_command(interaction, f"/maybe {activity}")

    @app_commands.command(name="unsignup", description=describe("unsignup"))
    @app_commands.autocomplete(activity=activity_names)
    @localized
    async def unsignup(self, interaction: discord.Interaction, activity: Id) -> None:
        await run_command(interaction, f"/unsignup {activity}")

    @app_commands.command(name="editevent", description=describe("editevent"))
    @app_commands.autocomplete(activity=activity_names)
    @app_commands.choices(field=EDIT_FIELDS)
    @localized
    async def editevent(
        self,
        interaction: discord.Interaction,
        activity: Id,
        field: app_commands.Choice[str],
        value: str = "",
    ) -> None:
        # "|" ends the target in core's parsing, so the value after it is taken whole.
        await run_command(interaction, f"/editevent {activity} {field.value} {value}")

    @app_commands.command(name="cancelevent", description=describe("cancelevent"))
    @app_commands.autocomplete(activity=activity_names)
    @localized
    async def cancelevent(self, interaction: discord.Interaction, activity: Id) -> None:
        await run_command(interaction, f"/cancelevent {activity}")

    @app_commands.command(name="calendar", description=describe("calendar"))
    @localized
    async def calendar(self, interaction: discord.Interaction, reset: bool = False) -> None:
        """The link is private: only the person sees the answer."""
        await run_command(interaction, "/calendar reset" if reset else "/calendar")

    @app_commands.command(name="deliveries", description=describe("deliveries"))
    @app_commands.autocomplete(activity=activity_names)
    @localized
    async def deliveries(self, interaction: discord.Interaction, activity: Id) -> None:
        await run_command(interaction, f"/deliveries {activity}")

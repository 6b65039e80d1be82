"""/newevent as a step-by-step wizard in a private chat (title, time, place, fee, capacity).

Each answer is checked with the same core parsers as the one-line form, so a bad date gets the
same message and the same step is asked again; nothing is created until the person confirms,
and the last step goes through the same core path as `/newevent a | b | c | d`. A command
sent on the way is never an answer: the wizard closes and the command runs as usual.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove

from adapters.telegram.render import render
from adapters.telegram.replies import send_reply
from adapters.telegram.routers.filters import ANSWER, COMMAND, When
from core.cards import Card, Reply, bold, note, plain
from core.chat.events import create
from core.chat.registry import Context, guarded
from core.errors import DomainError
from core.i18n import Translator
from core.models import Event, Group
from core.parsing import parse_capacity, parse_fee, parse_local_datetime
from core.services import events, groups
from core.services.events import EventDraft, EventView
from core.validation import clean_text, one_line
from core.views import counts_text, fee_text, format_time


class Wizard(StatesGroup):
    group = State()
    title = State()
    when = State()
    place = State()
    fee = State()
    capacity = State()
    confirm = State()


def _keyboard(*labels: str) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=label)] for label in labels],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def _ask(message: Message, text: str, markup=None) -> None:
    await message.answer(render(note(text))[0].html, reply_markup=markup or ReplyKeyboardRemove())


async def start(message: Message, state: FSMContext, ctx: Context) -> None:
    async with ctx.uow(readonly=True) as uow:
        mine = await groups.my_groups(uow, ctx.me)
    if not mine:
        await _ask(message, ctx.t("Join or create a group first: /groups, /newgroup."))
        return
    await state.set_state(Wizard.group)
    await _ask(
        message,
        ctx.t("New activity (send /cancel to stop). Which group?"),
        _keyboard(*(s.group.handle for s in mine)),
    )


async def cancel(message: Message, state: FSMContext, ctx: Context) -> None:
    await state.clear()
    await _ask(message, ctx.t("Cancelled. Nothing was created."))


async def leave(message: Message, state: FSMContext, ctx: Context) -> None:
    """Another command halfway through: the person moved on. The wizard closes, saying so, and
    the command goes on to the routers after this one, which run it as they would have."""
    await state.clear()
    await _ask(message, ctx.t("New activity closed: nothing was created."))
    raise SkipHandler


async def _step(message: Message, ctx: Context, check) -> object | None:
    """Run a step's check; on a domain error say why and stay on the same step."""
    try:
        return check(message.text or "")
    except DomainError as error:
        await _ask(message, "⚠️ " + error.render(ctx.t))
        return None


async def got_group(message: Message, state: FSMContext, ctx: Context) -> None:
    try:
        async with ctx.uow(readonly=True) as uow:
            group = await groups.find_group(uow, message.text or "")
    except DomainError as error:
        await _ask(message, "⚠️ " + error.render(ctx.t))
        return
    await state.update_data(group=group.ref, timezone=group.timezone)
    await state.set_state(Wizard.title)
    await _ask(message, ctx.t("Title?"))


async def got_title(message: Message, state: FSMContext, ctx: Context) -> None:
    title = await _step(
        message, ctx, lambda text: one_line(clean_text(text, field="title", min_len=1, max_len=120))
    )
    if title is None:
        return
    await state.update_data(title=title)
    await state.set_state(Wizard.when)
    data = await state.get_data()
    await _ask(
        message,
        ctx.t(
            "Date and time, in {timezone}? Like 2026-12-06 09:00, tomorrow 19:00 or "
            "next Saturday 8am",
            timezone=data["timezone"],
        ),
    )


async def got_when(message: Message, state: FSMContext, ctx: Context) -> None:
    timezone = (await state.get_data())["timezone"]

    def check(text: str) -> str:
        starts = parse_local_datetime(text, timezone, now=ctx.clock.now(), locale=ctx.t.locale)
        events.check_future(starts, ctx.clock.now())
        return starts.strftime("%Y-%m-%d %H:%M")  # "tomorrow" must not move before the end

    when = await _step(message, ctx, check)
    if when is None:
        return
    await state.update_data(when=when)
    await state.set_state(Wizard.place)
    understood = parse_local_datetime(when, timezone)
    await _ask(
        message,
        ctx.t("Understood: {when}.", when=format_time(understood, timezone, ctx.t))
        + "\n"
        + ctx.t("Where? Type the place, or share a location."),
    )


async def got_venue(message: Message, state: FSMContext, ctx: Context) -> None:
    venue = message.venue
    await _place(
        message,
        state,
        ctx,
        f"{venue.title}, {venue.address}",  # type: ignore[union-attr]
        venue.location.latitude,
        venue.location.longitude,
    )  # type: ignore[union-attr]


async def got_location(message: Message, state: FSMContext, ctx: Context) -> None:
    where = message.location
    label = f"{where.latitude:.5f}, {where.longitude:.5f}"  # type: ignore[union-attr]
    await _place(message, state, ctx, label, where.latitude, where.longitude)  # type: ignore[union-attr]


async def got_place(message: Message, state: FSMContext, ctx: Context) -> None:
    place = await _step(
        message, ctx, lambda text: one_line(clean_text(text, field="place", min_len=1, max_len=200))
    )
    if place is not None:
        await _place(message, state, ctx, place, None, None)  # type: ignore[arg-type]


async def _place(
    message: Message,
    state: FSMContext,
    ctx: Context,
    place: str,
    latitude: float | None,
    longitude: float | None,
) -> None:
    await state.update_data(place=place[:200], latitude=latitude, longitude=longitude)
    await state.set_state(Wizard.fee)
    await _ask(message, ctx.t("Fee? Say free, or an amount like 10 EUR."), _keyboard(ctx.t("free")))


async def got_fee(message: Message, state: FSMContext, ctx: Context) -> None:
    if await _step(message, ctx, lambda text: parse_fee(_free(text, ctx.t))) is None:
        return
    await state.update_data(fee=_free(message.text or "", ctx.t))
    await state.set_state(Wizard.capacity)
    await _ask(
        message,
        ctx.t("How many seats? A number, or “none” for no limit."),
        _keyboard(ctx.t("none")),
    )


def _free(text: str, t: Translator) -> str:
    """The keyboard offers the translated word; the parser understands the English one."""
    return {t("free"): "free", t("none"): "none"}.get(text.strip(), text)


async def got_capacity(message: Message, state: FSMContext, ctx: Context) -> None:
    if await _step(message, ctx, lambda text: parse_capacity(_free(text, ctx.t)) or 0) is None:
        return
    await state.update_data(capacity=_free(message.text or "", ctx.t))
    data = await state.get_data()
    await state.set_state(Wizard.confirm)
    async with ctx.uow(readonly=True) as uow:
        group = await groups.find_group(uow, data["group"])  # by its "#id": never missing
    summary = _summary(_draft(data), group, data["timezone"], ctx.t).add(ctx.t("Create it?"))
    await message.answer(
        render(summary)[0].html, reply_markup=_keyboard(ctx.t("✅ Create"), ctx.t("✖ Cancel"))
    )


def _draft(data: dict) -> EventDraft:
    """The activity the answers describe (each was checked when it was given)."""
    return EventDraft(
        title=data["title"],
        starts_at=parse_local_datetime(data["when"], data["timezone"]),
        place=data["place"],
        fee=parse_fee(data["fee"]),
        capacity=parse_capacity(data["capacity"]),
        latitude=data["latitude"],
        longitude=data["longitude"],
    )


def _summary(draft: EventDraft, group: Group, timezone: str, t: Translator) -> Card:
    """The answers as the card will show them, with the card's own formatters: the weekday and
    date a said time was read as, "Free" and the seats in the person's language, not the
    words typed or tapped."""
    unsaved = Event(
        fee_cents=draft.fee.cents, fee_currency=draft.fee.currency, capacity=draft.capacity
    )
    view = EventView(event=unsaved, group=group, confirmed=0, waitlisted=0)
    return (
        Card()
        .add(bold(draft.title))
        .add(plain(t("Group: ")), plain(group.name))
        .add(plain("🕒 "), plain(format_time(draft.starts_at, timezone, t)))
        .add(plain("📍 "), plain(draft.place))
        .add(plain("💶 "), plain(fee_text(view, t)))
        .add(plain("👥 "), plain(counts_text(view, t)))
    )


async def got_confirm(message: Message, state: FSMContext, bot: Bot, ctx: Context) -> None:
    if message.text != ctx.t("✅ Create"):
        await cancel(message, state, ctx)
        return
    data = await state.get_data()
    await state.clear()

    async def run() -> Reply:
        return await create(ctx, data["group"], _draft(data))

    await message.answer("👍", reply_markup=ReplyKeyboardRemove())
    await send_reply(bot, message.chat.id, await guarded(ctx, run), ctx)


def build() -> Router:
    router = Router(name="newevent")
    router.message.filter(When(F.chat.type == "private"))
    router.message.register(start, Command("newevent", magic=F.args.is_(None)))
    router.message.register(cancel, Command("cancel"), StateFilter(Wizard))
    router.message.register(leave, StateFilter(Wizard), When(COMMAND))
    answer = When(ANSWER)  # every step below: a command is left to `leave`
    router.message.register(got_group, StateFilter(Wizard.group), answer)
    router.message.register(got_title, StateFilter(Wizard.title), answer)
    router.message.register(got_when, StateFilter(Wizard.when), answer)
    router.message.register(got_venue, StateFilter(Wizard.place), When(F.venue))
    router.message.register(got_location, StateFilter(Wizard.place), When(F.location))
    router.message.register(got_place, StateFilter(Wizard.place), answer)
    router.message.register(got_fee, StateFilter(Wizard.fee), answer)
    router.message.register(got_capacity, StateFilter(Wizard.capacity), answer)
    router.message.register(got_confirm, StateFilter(Wizard.confirm), answer)
    return router

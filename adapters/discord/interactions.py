"""Answering Discord interactions with core replies, inside Discord's 3-second window.

Every interaction runs the core work (naming the actor included) as a task; if it is not done
in DEFER_AFTER seconds the interaction is deferred first (the token then lives 15 minutes) and
the answer follows. Fast answers (nearly all) go out as the first response, so a click edits
its card in place (response type 7) and a toast follows as an ephemeral message.

Discord has no toasts: the short answer to a click is an ephemeral message. It is sent when
the click edited a card in place (unless the edited card says it already: "Post deleted;
report #1 closed.") or produced nothing else; when the reply has cards of its own (an error
note, "Welcome to Hiking" with the group), those cards are the answer, so the same words do
not arrive twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable

import discord

from adapters.discord.buttons import PREFIX, routed_by_discord_py
from adapters.discord.render import MAX_CONTENT, message_kwargs, render, trim
from core import livecards
from core.cards import Card, Reply, note
from core.chat import Services, handle_action, handle_text
from core.chat.identity import context_for
from core.chat.registry import Context
from core.i18n import Translator
from core.metrics import LATENCY, UPDATES
from core.notify import Posted

log = logging.getLogger(__name__)

PLATFORM = "discord"
DEFER_AFTER = 2.0

Work = Callable[[Context], Awaitable[Reply]]


def services_of(interaction: discord.Interaction) -> Services:
    return interaction.client.services  # type: ignore[attr-defined]


async def context_of(interaction: discord.Interaction, *, shared: bool) -> Context:
    """`shared`: the answer is seen by the whole channel, so cards leave out personal lines."""
    user = interaction.user
    return await context_for(
        services_of(interaction),
        platform=PLATFORM,
        external_id=str(user.id),
        display_name=user.display_name,
        username=user.name,
        platform_locale=str(interaction.locale),
        in_group_chat=shared and interaction.guild is not None,
        chat_id=str(interaction.channel_id),
    )


@contextlib.asynccontextmanager
async def safety_net(interaction: discord.Interaction) -> AsyncIterator[None]:
    """Core answers its own errors; this catches the rest (Discord refusing a message, a
    notifier raising) so the person is told, as core would tell them, instead of seeing
    "This interaction failed". It also counts the interaction and its time (core.metrics)."""
    kind = interaction.type.name
    UPDATES.labels(PLATFORM, kind).inc()
    try:
        with LATENCY.labels(PLATFORM, kind).time():
            yield
    except Exception:
        ref = secrets.token_hex(4)
        log.exception("Discord interaction failed (ref %s)", ref)
        t = Translator(str(interaction.locale))
        text = "⚠️ " + t("Something went wrong on our side. Reference: {ref}", ref=ref)
        with contextlib.suppress(discord.HTTPException):
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)


async def _in_time(
    interaction: discord.Interaction,
    work: Awaitable[Reply],
    *,
    ephemeral: bool,
    update: bool,
) -> tuple[Reply, bool]:
    """Run the work; defer if it is slow. Returns the reply and whether we deferred."""
    task = asyncio.ensure_future(work)
    # Discord's 3 seconds run from when it created the interaction, not from when our handler
    # started: under load the event loop may pick it up late, so count what is already gone.
    waited = (discord.utils.utcnow() - interaction.created_at).total_seconds()
    budget = max(0.0, DEFER_AFTER - max(0.0, waited))
    try:
        done, _ = await asyncio.wait({task}, timeout=budget)
        if done:
            return task.result(), False
        if update:
            await interaction.response.defer()
        else:
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        return await task, True
    finally:
        if not task.done():  # our handler was cancelled (the client is closing)
            task.cancel()


async def send_cards(
    interaction: discord.Interaction,
    cards: list[Card],
    *,
    ephemeral: bool,
    deferred: bool,
    ctx: Context | None = None,
    public_live: bool = False,
) -> None:
    """The first message as the interaction's response (unless already answered), the rest as
    follow-ups. A live activity card in a message everyone sees is recorded as a copy
    (`ctx` names whose view it is), so later changes redraw it (core.livecards); a shared one
    is in the community's language (`livecards.for_everyone`).
    `public_live`: live cards go to the whole channel even when the rest is ephemeral (a new
    activity's card, so everyone can sign up from it)."""
    first = not deferred and not interaction.response.is_done()
    for card in cards:
        private = ephemeral and not (public_live and card.live is not None)
        locale = ctx.t.locale if ctx is not None else None
        if ctx is not None and not private:
            chat = (PLATFORM, str(interaction.channel_id))
            card, locale = await livecards.for_everyone(ctx.services, card, ctx.t.locale, chat)
        rendered = render(card)
        for message in rendered:
            kwargs = message_kwargs(message, ephemeral=private)
            if first:
                answered = await interaction.response.send_message(**kwargs)
                message_id = answered.message_id
                first = False
            else:
                message_id = (await interaction.followup.send(**kwargs, wait=True)).id
            if ctx is not None and not private and len(rendered) == 1:
                await _remember(interaction, ctx, message_id, card, locale)


async def _remember(
    interaction: discord.Interaction,
    ctx: Context,
    message_id: int | None,
    card: Card,
    locale: str | None,
) -> None:
    """Record a copy, with the language it is drawn in (its redraws keep to it)."""
    if card.live is None or message_id is None or interaction.channel_id is None:
        return
    posted = Posted(PLATFORM, str(interaction.channel_id), str(message_id), card, locale, ctx.me)
    await livecards.remember(ctx.services, posted)


async def answer(
    interaction: discord.Interaction,
    work: Work,
    *,
    ephemeral: bool = True,
    shared: bool = False,
    public_live: bool = False,
) -> None:
    """Name the actor, run `work` in time, and answer with its cards (errors ephemerally)."""

    ctx: list[Context] = []

    async def run() -> Reply:
        ctx.append(await context_of(interaction, shared=shared))
        return await work(ctx[0])

    async with safety_net(interaction):
        reply, deferred = await _in_time(interaction, run(), ephemeral=ephemeral, update=False)
        cards = reply.cards or ([note(reply.toast)] if reply.toast else [])
        if not cards:  # every command answers something; never leave "thinking…" behind
            cards = [note("✔")]
        ephemeral = ephemeral or reply.alert
        await send_cards(
            interaction,
            cards,
            ephemeral=ephemeral,
            deferred=deferred,
            ctx=ctx[0] if ctx else None,
            public_live=public_live and not reply.alert,
        )


async def run_command(
    interaction: discord.Interaction, text: str, *, ephemeral: bool = True
) -> None:
    """A slash command, as the same /command text every platform feeds the core."""
    await answer(
        interaction, lambda ctx: handle_text(ctx, text), ephemeral=ephemeral, shared=not ephemeral
    )


async def answer_click(interaction: discord.Interaction, payload: str) -> None:
    """A button: core runs (and re-authorises) the action; the card is edited in place."""
    message = interaction.message
    shared = message is not None and not message.flags.ephemeral
    ctx: list[Context] = []

    async def run() -> Reply:
        ctx.append(await context_of(interaction, shared=shared))
        return await handle_action(ctx[0], payload)

    async with safety_net(interaction):
        await _answer_click(interaction, run(), ctx)


async def _answer_click(
    interaction: discord.Interaction, work: Awaitable[Reply], ctx: list[Context]
) -> None:
    """The clicked message is updated by the interaction response itself (Discord's own way,
    no extra request); its other copies are redrawn by the card refresher. A shared card stays
    in the community's language; the clicker's answer is in theirs."""
    message = interaction.message
    reply, answered = await _in_time(interaction, work, ephemeral=True, update=True)
    cards = list(reply.cards)
    edited: Card | None = None  # the card the clicked message shows now
    if reply.edit and cards and message is not None:
        card, locale = cards[0], ctx[0].t.locale if ctx else None
        if ctx and not message.flags.ephemeral:
            chat = (PLATFORM, str(interaction.channel_id))
            card, locale = await livecards.for_everyone(
                ctx[0].services, card, ctx[0].t.locale, chat
            )
        rendered = render(card)
        if len(rendered) == 1:
            cards.pop(0)
            edit = message_kwargs(rendered[0])
            edit.setdefault("view", None)  # a card without buttons drops the old ones
            edit.setdefault("content", None)
            if answered:
                await interaction.edit_original_response(**edit)
            else:
                await interaction.response.edit_message(**edit)
                answered = True
            edited = card
            if ctx and not message.flags.ephemeral:
                await _remember(interaction, ctx[0], message.id, card, locale)
    told = edited is not None and reply.toast is not None and reply.toast in edited.text
    if reply.toast and not told and (edited is not None or not cards):
        toast = trim(reply.toast, MAX_CONTENT)
        if answered:
            await interaction.followup.send(toast, ephemeral=True)
        else:
            await interaction.response.send_message(toast, ephemeral=True)
            answered = True
    if cards:
        await send_cards(interaction, cards, ephemeral=True, deferred=answered)
    elif not answered:
        await interaction.response.defer()  # acknowledged; nothing to say


async def open_modal(interaction: discord.Interaction, modal: discord.ui.Modal) -> None:
    """Show a form as the interaction's response; the client stops it when it closes."""
    interaction.client.forms.add(modal)  # type: ignore[attr-defined]
    await interaction.response.send_modal(modal)


async def answer_unrouted(interaction: discord.Interaction) -> None:
    """A click discord.py would drop (a forged or foreign custom_id): core answers it."""
    if interaction.type != discord.InteractionType.component or routed_by_discord_py(interaction):
        return
    custom_id = str((interaction.data or {}).get("custom_id", ""))
    payload = custom_id.removeprefix(PREFIX) if custom_id.startswith(PREFIX) else ""
    await answer_click(interaction, payload)

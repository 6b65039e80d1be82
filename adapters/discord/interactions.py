"""Answering Discord interactions with core replies, inside Discord's 3-second window.

Every interaction runs the core work as a task; if it is not done in DEFER_AFTER seconds the
interaction is deferred first (the token then lives 15 minutes) and the answer follows. Fast
answers (nearly all) go out as the first response, so a click edits its card in place
(response type 7) and a toast follows as an ephemeral message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import discord

from adapters.discord.render import MAX_CONTENT, render, trim, view
from core.cards import Card, Reply
from core.chat import Services, handle_action, handle_text
from core.chat.identity import context_for
from core.chat.registry import Context

PLATFORM = "discord"
DEFER_AFTER = 2.0


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
    )


async def _in_time(
    interaction: discord.Interaction, work: Awaitable[Reply], *, ephemeral: bool, update: bool
) -> tuple[Reply, bool]:
    """Run the work; defer if it is slow. Returns the reply and whether we deferred."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER)
    if done:
        return task.result(), False
    if update:
        await interaction.response.defer()
    else:
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
    return await task, True


async def send_cards(
    interaction: discord.Interaction, cards: list[Card], *, ephemeral: bool, deferred: bool
) -> None:
    """The first message as the interaction's response (unless already answered), the rest as
    follow-ups."""
    first = not deferred and not interaction.response.is_done()
    for card in cards:
        for message in render(card):
            kwargs = {"embeds": message.embeds, "ephemeral": ephemeral}
            layout = view(message.buttons)
            if layout is not None:
                kwargs["view"] = layout
            if first:
                await interaction.response.send_message(**kwargs)
                first = False
            else:
                await interaction.followup.send(**kwargs)


async def run_command(
    interaction: discord.Interaction, text: str, *, ephemeral: bool = True
) -> None:
    """A slash command, as the same /command text every platform feeds the core."""
    ctx = await context_of(interaction, shared=not ephemeral)
    reply, deferred = await _in_time(
        interaction, handle_text(ctx, text), ephemeral=ephemeral, update=False
    )
    await send_cards(
        interaction, reply.cards, ephemeral=ephemeral or reply.alert, deferred=deferred
    )


async def answer_click(interaction: discord.Interaction, payload: str) -> None:
    message = interaction.message
    shared = message is not None and not message.flags.ephemeral
    ctx = await context_of(interaction, shared=shared)
    reply, deferred = await _in_time(
        interaction, handle_action(ctx, payload), ephemeral=True, update=True
    )
    cards = list(reply.cards)
    if reply.edit and cards and len(render(cards[0])) == 1:
        [rendered] = render(cards.pop(0))
        edit = {"embeds": rendered.embeds, "view": view(rendered.buttons)}
        if deferred:
            await interaction.edit_original_response(**edit)
        else:
            await interaction.response.edit_message(**edit)
            deferred = True
    if reply.toast:
        toast = trim(reply.toast, MAX_CONTENT)
        if deferred or interaction.response.is_done():
            await interaction.followup.send(toast, ephemeral=True)
        elif not cards:
            await interaction.response.send_message(toast, ephemeral=True)
            deferred = True
    if cards:
        await send_cards(interaction, cards, ephemeral=True, deferred=deferred)
    elif not interaction.response.is_done():
        await interaction.response.defer()

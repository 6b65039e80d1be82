"""Card buttons as DynamicItems: the custom_id carries the core action (`cl:su:42`), so the
button is rebuilt from it after a restart, and core authorises it again on every click.

discord.py routes a click to a DynamicItem only when the custom_id matches the template AND
the clicked message carries a component with that custom_id; anything else it drops without
an answer, and the person sees "This interaction failed". A modified client can send any
custom_id, so `answer_unrouted` answers those clicks too: core decodes and re-authorises the
payload, and refuses what is forged ("That button no longer works.", "No activity #999").

This module knows the buttons' shape only, not how a click is answered (the client's
`answer_click`, adapters/discord/interactions.py): rendering a card, which the card refresher
does in the background, needs no part of the answering stack.
"""

from __future__ import annotations

import re

import discord

PREFIX = "cl:"
TEMPLATE = r"cl:(?P<payload>[a-z]{2}(?::[0-9]{1,16}){1,2})"
_PATTERN = re.compile(TEMPLATE)


class ActionButton(discord.ui.DynamicItem[discord.ui.Button], template=TEMPLATE):
    def __init__(self, payload: str, *, label: str = "…", row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                custom_id=f"{PREFIX}{payload}",
                style=discord.ButtonStyle.secondary,
                row=row,
            )
        )
        self.payload = payload

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> ActionButton:
        return cls(match["payload"], label=item.label or "…")

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.answer_click(interaction, self.payload)  # type: ignore[attr-defined]


def routed_by_discord_py(interaction: discord.Interaction) -> bool:
    """Whether discord.py will hand this component interaction to an ActionButton."""
    custom_id = str((interaction.data or {}).get("custom_id", ""))
    message = interaction.message
    if message is None or _PATTERN.fullmatch(custom_id) is None:
        return False
    return any(
        getattr(component, "custom_id", None) == custom_id
        for row in message.components
        for component in getattr(row, "children", [row])
    )

"""Card buttons as DynamicItems: the custom_id carries the core action (`cl:su:42`), so the
button is rebuilt from it after a restart, and core authorises it again on every click."""

from __future__ import annotations

import re

import discord

from adapters.discord.interactions import answer_click

TEMPLATE = r"cl:(?P<payload>[a-z]{2}(?::[0-9]{1,16}){1,2})"


class ActionButton(discord.ui.DynamicItem[discord.ui.Button], template=TEMPLATE):
    def __init__(self, payload: str, *, label: str = "…", row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                custom_id=f"cl:{payload}",
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
        await answer_click(interaction, self.payload)

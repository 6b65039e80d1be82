"""Settings read from the environment (and a `.env` file), in one place.

Every setting is documented in `.env.example` and docs/configuration.md; a test keeps the three
in step.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.durations import parse_offsets


class Settings(BaseSettings):
    """The process configuration. Field names are the environment variable names, upper-cased."""

    # A blank line such as `WEB_PORT=` (every one in .env.example) means unset, whatever the
    # field's type: the default applies instead of failing to read '' as a number.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///community.db",
        description="SQLAlchemy async URL. SQLite file by default; postgresql+asyncpg://... "
        "for several bot processes.",
    )
    seed_demo: bool | None = Field(
        default=None,
        description="Seed a small demo community (hiking, cycling, fishing) into an empty "
        "database at start-up: auto (unset) seeds only for the console chat, never beside a "
        "real Telegram or Discord bot; true forces it, false never.",
    )
    default_locale: str = Field(default="en", description="Language when a person has none.")
    default_timezone: str = Field(
        default="UTC",
        description="IANA timezone of new groups and the console demo (a person without one "
        "sees each activity in its own).",
    )
    reminder_offsets: str = Field(
        default="24h,1h",
        description="Default reminder offsets before an activity, e.g. 24h,1h or 90s,15m.",
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    telegram_bot_token: str | None = Field(
        default=None, description="Bot token from BotFather; Telegram starts when set."
    )
    telegram_api_base: str | None = Field(
        default=None,
        description="Base URL of a self-hosted Bot API server; the official server when unset.",
    )
    discord_bot_token: str | None = Field(
        default=None, description="Discord bot token; Discord starts when set."
    )
    discord_guild_ids: str = Field(
        default="",
        description="Comma-separated server ids whose slash commands sync at once (development); "
        "global sync otherwise.",
    )

    telegram_webhook_url: str | None = Field(
        default=None,
        description="Public HTTPS URL for Telegram webhook mode (served on WEB_PORT); long "
        "polling when unset.",
    )
    telegram_webhook_secret: str | None = Field(
        default=None,
        description="Secret Telegram echoes on every webhook request; requests without it are "
        "refused.",
    )
    discord_shard_count: int | None = Field(
        default=None, description="Total Discord shards across all processes; unsharded when unset."
    )
    discord_shard_ids: str = Field(
        default="",
        description="Comma-separated shard ids this process runs (of DISCORD_SHARD_COUNT); all "
        "when empty.",
    )
    web_port: int | None = Field(
        default=None,
        description="Port of the bot's own web server (/healthz, /metrics); off when unset.",
    )
    web_host: str = Field(
        default="127.0.0.1", description="Address the web server listens on (0.0.0.0: all)."
    )
    public_url: str | None = Field(
        default=None,
        description="The web server's address as people reach it (https://bot.example.com): "
        "/calendar feed links start with it; the feed is off when unset.",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://... for state shared by several bot processes; one process "
        "needs none.",
    )

    telegram_bot_username: str | None = Field(
        default=None,
        description="The Telegram bot's @username (without @): /link on another platform then "
        "offers a t.me link that finishes linking in one tap.",
    )
    operator_ids: str = Field(
        default="",
        description="Comma-separated platform:id of the people who run this community (e.g. "
        "telegram:123,discord:456): they see every report (/reports) and are told of new ones.",
    )

    @property
    def operators(self) -> set[tuple[str, str]]:
        """OPERATOR_IDS as (platform, external id) pairs."""
        pairs = (part.strip().partition(":") for part in self.operator_ids.split(","))
        return {(platform.lower(), ident) for platform, _, ident in pairs if platform and ident}

    @field_validator("seed_demo", mode="before")
    @classmethod
    def _auto(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in ("", "auto") else value

    @property
    def seeds_demo(self) -> bool:
        """Fake groups and members belong in a try-out, not in a real community: by default
        only the console chat (no platform token) gets them."""
        if self.seed_demo is not None:
            return self.seed_demo
        return not (self.telegram_bot_token or self.discord_bot_token)

    @field_validator("reminder_offsets")
    @classmethod
    def _offsets_parse(cls, value: str) -> str:
        parse_offsets(value)
        return value

    @property
    def default_offsets(self) -> list[timedelta]:
        """REMINDER_OFFSETS, parsed: copied onto each new activity."""
        return parse_offsets(self.reminder_offsets)

    @property
    def discord_shards(self) -> list[int]:
        return [int(part) for part in self.discord_shard_ids.replace(" ", "").split(",") if part]

    @property
    def discord_guilds(self) -> list[int]:
        return [int(part) for part in self.discord_guild_ids.replace(" ", "").split(",") if part]

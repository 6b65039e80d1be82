"""Every setting is documented where a newcomer looks: .env.example, the README, the docs."""

from pathlib import Path

import pytest

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
NAMES = [name.upper() for name in Settings.model_fields]


@pytest.mark.parametrize("document", [".env.example", "README.md", "docs/configuration.md"])
def test_every_setting_is_documented(document: str) -> None:
    text = (ROOT / document).read_text()
    missing = [name for name in NAMES if name not in text]
    assert not missing, f"{document} does not mention {missing}"


def test_bad_reminder_offsets_fail_at_start_up() -> None:
    with pytest.raises(ValueError, match="duration"):
        Settings(_env_file=None, reminder_offsets="24h,soon")
    assert Settings(_env_file=None, reminder_offsets="90s,15m").reminder_offsets == "90s,15m"


def test_env_example_copied_to_env_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`cp .env.example .env` is the README's first step: its blank values count as unset."""
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=ROOT / ".env.example")
    assert settings.web_port is None and settings.discord_shard_count is None
    assert settings.telegram_bot_token is None and settings.seeds_demo
    monkeypatch.setenv("WEB_PORT", "")
    assert Settings(_env_file=None).web_port is None

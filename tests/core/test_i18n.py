"""Translations: the catalogs are complete, well-formed, and reach people through the chat.

The extraction here is the same as the catalog command (see core/locales/README.md):
babel.cfg's method map with Babel's default keywords plus `t`, so `t(...)`, `ctx.t(...)`,
`t.gettext(...)`, `t.ngettext(...)` and `N_(...)` are all found. A string added in code without a
Chinese translation fails `test_every_extracted_message_is_translated` with the list of them.
"""

from __future__ import annotations

import re
import string
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from core.actions import encode
from core.cards import Button, Reply
from core.chat import handle_action
from core.i18n import (
    LOCALES_DIR,
    N_,
    SUPPORTED,
    Translator,
    normalize_locale,
    set_default_locale,
)
from core.models import Person
from tests.support import Chat

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "t": None, "gettext": None, "ngettext": (1, 2)}
PLURAL_FORMS = {"en": "nplurals=2; plural=(n != 1);", "zh": "nplurals=1; plural=0;"}
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")  # ideographs, CJK punctuation
# Messages that are only a command name have nothing to translate.
UNTRANSLATABLE = re.compile(r"^/[a-z]+$")
EVENT = "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead | free | 2"


@cache
def extracted() -> dict[str, tuple[str, ...]]:
    """msgid -> (msgid, msgid_plural?) for every marked string in the code babel.cfg covers."""
    with (ROOT / "babel.cfg").open() as fp:
        method_map, options_map = parse_mapping_cfg(fp)
    found: dict[str, tuple[str, ...]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        pair = (message,) if isinstance(message, str) else tuple(message)
        assert pair[0], f"empty msgid in {filename}"
        found.setdefault(pair[0], pair)
    return found


@cache
def catalog(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        return read_po(fp, locale=locale)


def entries(locale: str) -> list[Message]:
    return [message for message in catalog(locale) if message.id]


def strings(message: Message) -> tuple[str, ...]:
    return tuple(message.string) if message.pluralizable else (message.string,)


def ids(message: Message) -> tuple[str, ...]:
    return tuple(message.id) if message.pluralizable else (message.id,)


def fields(text: str) -> set[str]:
    """The `{name}` placeholders of a str.format template (raises on a malformed one)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def labels(reply: Reply) -> list[str]:
    return [button.label for card in reply.cards for row in card.buttons for button in row]


def button(reply: Reply, label: str) -> Button:
    return next(b for card in reply.cards for row in card.buttons for b in row if b.label == label)


# --- the catalogs -------------------------------------------------------------------------


def test_extraction_finds_every_kind_of_call() -> None:
    found = extracted()
    assert "✅ Sign up" in found  # t("...") in a view
    assert "That button no longer works." in found  # ctx.t("...")
    assert "Not found." in found  # N_("...")
    assert found["{n} member"] == ("{n} member", "{n} members")  # t.ngettext(...)
    assert len(found) > 200


def test_every_extracted_message_is_translated() -> None:
    zh = catalog("zh")
    missing = sorted(
        msgid
        for msgid in extracted()
        if (message := zh.get(msgid)) is None or message.fuzzy or not all(strings(message))
    )
    assert not missing, (
        f"{len(missing)} message(s) without a Chinese translation; re-extract, update the "
        "catalogs (core/locales/README.md) and translate:\n" + "\n".join(missing)
    )


def test_english_catalog_lists_every_message() -> None:
    en = catalog("en")
    missing = sorted(msgid for msgid in extracted() if en.get(msgid) is None)
    assert not missing, "catalogs not updated after extraction:\n" + "\n".join(missing)


def test_plural_entries_match_the_code() -> None:
    for locale in SUPPORTED:
        for message in entries(locale):
            code = extracted().get(ids(message)[0])
            if code is not None:
                assert ids(message) == code, (locale, message.id)


@pytest.mark.parametrize("locale", SUPPORTED)
def test_header_carries_plural_forms(locale: str) -> None:
    assert catalog(locale).plural_forms == PLURAL_FORMS[locale]
    text = (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").read_text("utf-8")
    assert f'"Plural-Forms: {PLURAL_FORMS[locale]}\\n"' in text


def test_chinese_placeholders_match_the_source() -> None:
    wrong = []
    for message in entries("zh"):
        expected = set().union(*(fields(text) for text in ids(message)))
        for text in strings(message):
            try:
                ok = not text or fields(text) == expected
            except ValueError:  # an unbalanced brace would break .format at runtime
                ok = False
            if not ok:
                wrong.append(f"{message.id!r} -> {text!r}")
    assert not wrong, "\n".join(wrong)


def test_chinese_translations_are_chinese() -> None:
    untranslated = [
        message.id
        for message in entries("zh")
        if not UNTRANSLATABLE.match(ids(message)[0])
        and not all(CJK.search(text) for text in strings(message))
    ]
    assert not untranslated, "\n".join(map(str, untranslated))


# --- the Translator -----------------------------------------------------------------------


def test_chinese_translator() -> None:
    t = Translator("zh")
    assert t("✅ Sign up") == "✅ 报名"
    assert t("❌ Cancel") == "❌ 取消报名"
    assert t("👥 Who's going") == "👥 谁会参加"
    assert t("You're in!") == "报名成功！"
    assert (
        t("It's full: you're #{position} on the waitlist.", position=3)
        == "名额已满：你在候补名单第 3 位。"
    )
    assert t(N_("Getting started")) == "入门"


@pytest.mark.parametrize("code", ["zh", "zh-hans", "zh-CN", "zh_TW", "ZH-Hant-TW"])
def test_chinese_variants_pick_chinese(code: str) -> None:
    assert normalize_locale(code) == "zh"
    assert Translator(code).locale == "zh"
    assert Translator(code)("✅ Sign up") == "✅ 报名"


@pytest.mark.parametrize("code", ["de", "fr-FR", "", None, "en-GB"])
def test_other_languages_fall_back_to_english(code: str | None) -> None:
    t = Translator(code)
    assert t.locale == "en"
    assert t("✅ Sign up") == "✅ Sign up"
    assert t("Welcome to {group}!", group="Hiking") == "Welcome to Hiking!"


def test_english_plurals() -> None:
    t = Translator("en")
    assert t.ngettext("{n} member", "{n} members", 1) == "1 member"
    assert t.ngettext("{n} member", "{n} members", 2) == "2 members"
    assert t.ngettext("{n} member", "{n} members", 0) == "0 members"


def test_chinese_plurals() -> None:
    t = Translator("zh")
    assert t.ngettext("{n} member", "{n} members", 1) == "1 名成员"
    assert t.ngettext("{n} member", "{n} members", 2) == "2 名成员"
    assert t.ngettext("{n} on the waitlist", "{n} on the waitlist", 5) == "5 人候补"


def test_every_plural_message_formats_in_every_language() -> None:
    for msgid, code_ids in extracted().items():
        if len(code_ids) != 2:
            continue
        for locale in SUPPORTED:
            for n in (0, 1, 2, 11):
                text = Translator(locale).ngettext(msgid, code_ids[1], n)
                assert str(n) in text and "{" not in text, (locale, msgid, n, text)


# --- through the chat ---------------------------------------------------------------------


async def test_start_in_chinese(chat: Chat) -> None:
    reply = await chat.say("li", "/start", locale="zh")
    assert "你好，li！" in reply.text
    assert "/help" in reply.text
    assert "Hi " not in reply.text


async def test_help_in_chinese(chat: Chat) -> None:
    reply = await chat.say("li", "/help", locale="zh-hans")
    text = reply.text
    for title in ("入门", "群组", "帖子", "活动", "群组管理"):
        assert f"\n{title}\n" in f"\n{text}\n", title
    assert "/help — 全部命令" in text
    assert "/groups [关键词] — 查找兴趣群组" in text
    assert "/join <群组> — 加入群组" in text
    assert "/newevent <群组> | <标题> | <YYYY-MM-DD HH:MM> | <地点>" in text
    english = await chat.say("bob", "/help")
    assert "/help — All commands" in english.text
    assert len(english.cards[0].lines) == len(reply.cards[0].lines)


async def test_errors_in_chinese(chat: Chat) -> None:
    reply = await chat.say("li", "/join nosuchgroup", locale="zh")
    assert reply.alert
    assert reply.toast == "没有名为“nosuchgroup”的群组。发送 /groups 查看所有群组。"
    assert reply.text == "⚠️ " + reply.toast
    reply = await chat.say("li", "/nosuchcommand", locale="zh")
    assert reply.text == "没有 /nosuchcommand 这个命令。试试 /help。"


async def test_event_card_in_chinese(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    made = await chat.say("maya", EVENT)
    assert "✅ Sign up" in labels(made)

    joined = await chat.say("li", "/join hiking", locale="zh")
    assert joined.toast == "欢迎加入 Hiking！"
    assert "2 名成员" in joined.text

    shown = await chat.say("li", "/event 1", locale="zh")
    assert labels(shown) == ["✅ 报名", "🤔 可能参加", "❌ 取消报名", "👥 谁会参加", "📅 加入日历"]
    assert "群组：Hiking" in shown.text
    assert "免费" in shown.text
    assert "0/2 人参加" in shown.text

    li = await chat.context("li", "zh")
    clicked = await handle_action(li, encode(button(shown, "✅ 报名").action))  # type: ignore[arg-type]
    assert clicked.toast == "报名成功！"
    assert "✅ 你已报名。" in clicked.text


async def test_new_event_in_chinese(chat: Chat) -> None:
    await chat.say("li", "/newgroup Hiking", locale="zh")
    reply = await chat.say("li", EVENT, locale="zh")
    assert reply.cards[0].text == "活动 #1 已创建。用 /event 1 分享给大家。"
    assert labels(reply) == ["✅ 报名", "🤔 可能参加", "❌ 取消报名", "👥 谁会参加", "📅 加入日历"]
    assert "2026年12月6日" in reply.text


async def test_settings_switch_to_chinese(chat: Chat) -> None:
    before = await chat.say("bob", "/start")
    assert "Hi bob!" in before.text
    saved = await chat.say("bob", "/settings language zh")
    assert saved.text == "语言已保存：zh"
    after = await chat.say("bob", "/start")
    assert "你好，bob！" in after.text
    settings = await chat.say("bob", "/settings")
    assert "我的设置" in settings.text and "语言：zh" in settings.text
    back = await chat.say("bob", "/settings language en")
    assert back.text == "Language saved: en"


async def test_default_locale_is_the_language_of_whoever_has_none(chat) -> None:
    """DEFAULT_LOCALE was read by the console alone: elsewhere the fallback was English."""
    set_default_locale("zh")
    try:
        assert Translator(None).locale == "zh"
        assert Person(display_name="Ann").language == "zh"
        assert "入门" in (await chat.say("ann", "/help")).text  # no language of her own
        assert "Getting started" in (await chat.say("bob", "/help", locale="en")).text
    finally:
        set_default_locale("en")
    assert Translator(None).locale == "en"

"""Translations: gettext catalogs kept as Babel `.po` files under core/locales.

The catalogs are read from the `.po` sources and compiled in memory at first use, so there is no
compiled artefact to forget to rebuild. Strings in code are marked with `_` (translated now, with
a Translator) or `N_` (marked for extraction, translated later, e.g. error messages).
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path
from typing import NamedTuple

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
SUPPORTED = ("en", "zh")
_default = ["en"]  # DEFAULT_LOCALE: the settings' default_locale, once the bot starts


def set_default_locale(code: str) -> None:
    """The language of whoever chose none and whose platform gives none we ship (settings'
    DEFAULT_LOCALE): one value for the whole process, set once at start-up."""
    _default[0] = normalize_locale(code, "en")  # "zh-CN" is zh, as for people


def default_locale() -> str:
    return _default[0]


#: How platforms are named to people (names, not translated).
PLATFORM_NAMES = {"telegram": "Telegram", "discord": "Discord", "console": "Console"}


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


class Plural(NamedTuple):
    """A message with a plural form, kept to be translated later for a count `n` (as N_ keeps
    one without): an error about "{n} guests" must read "1 guest" too."""

    singular: str
    plural: str

    @classmethod
    def ngettext(cls, singular: str, plural: str) -> Plural:
        """Mark the two forms without translating them: extraction finds them as one plural
        entry by the name `ngettext` (Babel matches the last name before the parenthesis)."""
        return cls(singular, plural)


def normalize_locale(code: str | None, default: str | None = None) -> str:
    """Map a platform's language code to one we ship: 'zh-hans', 'zh-CN', 'zh_TW' -> 'zh';
    anything else to `default`, by default the process's (set_default_locale)."""
    default = default or _default[0]
    if not code:
        return default
    base = code.replace("_", "-").split("-")[0].lower()
    return base if base in SUPPORTED else default


@cache
def _catalog(locale: str) -> gettext.NullTranslations:
    po_path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as fp:
        catalog = read_po(fp, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Translator:
    """Translations for one locale; what views and adapters hold while answering one person."""

    __slots__ = ("_t", "locale")

    def __init__(self, locale: str | None = None) -> None:
        self.locale = normalize_locale(locale)
        self._t = _catalog(self.locale)

    def gettext(self, message: str, **params: object) -> str:
        text = self._t.gettext(message)
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        return self._t.ngettext(singular, plural, n).format(n=n, **params)

    __call__ = gettext

"""Domain errors: a small hierarchy with stable codes and translatable messages.

Services raise these; adapters show `error.render(t)` to the person. The code is stable (tests,
logs and clients may match on it); the message is marked for translation with N_ and formatted
with the error's parameters in the person's language. One that depends on a number is marked
with Plural.ngettext and takes the number as its parameter `n`.
"""

from __future__ import annotations

from core.i18n import N_, Plural, Translator


class Term(str):
    """A parameter that is itself a word to translate (a field name, a role), marked with N_."""


class DomainError(Exception):
    """Base of every error a person can cause. Raising one never leaves a partial change."""

    code = "error"
    message: str | Plural = N_("Something is not right with that request.")

    def __init__(self, message: str | Plural | None = None, /, **params: object) -> None:
        if message is not None:
            self.message = message
        self.params = params
        super().__init__(message)

    def __str__(self) -> str:  # the code may be set after construction (see invalid() below)
        message = self.message
        if isinstance(message, Plural):
            message = message.singular if self.params["n"] == 1 else message.plural
        text = message.format(**self.params) if self.params else message
        return f"{self.code}: {text}"

    def render(self, t: Translator) -> str:
        """In the person's language; a Plural message in the form its parameter `n` asks for."""
        params = {k: t(v) if isinstance(v, Term) else v for k, v in self.params.items()}
        if isinstance(self.message, Plural):
            n = params.pop("n")
            return t.ngettext(*self.message, n, **params)  # type: ignore[arg-type]
        return t.gettext(self.message, **params)


class NotFound(DomainError):
    code = "not_found"
    message = N_("Not found.")


class PermissionDenied(DomainError):
    code = "forbidden"
    message = N_("You are not allowed to do that.")


class InvalidInput(DomainError):
    code = "invalid"
    message = N_("That input is not valid.")


class Conflict(DomainError):
    code = "conflict"
    message = N_("That conflicts with the current state.")


def not_found(what: str, **params: object) -> NotFound:
    """A NotFound whose code names the thing: 'group_not_found', 'event_not_found', ..."""
    messages = {
        "group": N_("No group called “{name}”. Try /groups to see them."),
        "event": N_("No activity #{id}. Try /events to see upcoming ones."),
        "post": N_("No post #{id}."),
        "reply": N_("No reply #{id}."),
        "report": N_("No open report #{id}."),
        "person": N_("Nobody called “{name}” here."),
        "request": N_("No pending request from that person."),
    }
    error = NotFound(messages[what], **params)
    error.code = f"{what}_not_found"
    return error


def invalid(code: str, message: str | Plural, **params: object) -> InvalidInput:
    error = InvalidInput(message, **params)
    error.code = code
    return error


def forbidden(code: str, message: str | Plural, **params: object) -> PermissionDenied:
    error = PermissionDenied(message, **params)
    error.code = code
    return error


def conflict(code: str, message: str | Plural, **params: object) -> Conflict:
    error = Conflict(message, **params)
    error.code = code
    return error

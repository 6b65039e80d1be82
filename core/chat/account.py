"""/start, /help, /settings and /cancel."""

from __future__ import annotations

from core.actions import Act, act
from core.cards import Button, Card, Reply, bold, code, note, plain
from core.cards import code as code_span
from core.chat.args import number
from core.chat.registry import COMMANDS, SECTIONS, Context, command, commands_on, only_in_private
from core.i18n import N_, PLATFORM_NAMES, Translator
from core.services import discovery, events, linking, people
from core.uow import UnitOfWork

START_LINKS = {"join": "join", "event": "event", "group": "group", "link": "link"}


@command(
    "start",
    usage=N_("/start"),
    help=N_("Welcome and first steps"),
    section="start",
    hidden_on=("discord",),  # Discord's app opens with the list of commands; no deep links
)
async def start_command(ctx: Context, args: str) -> Reply:
    """Deep links (`t.me/<bot>?start=join_hiking`, `event_12`) open what they point at."""
    kind, _, value = args.partition("_")
    if kind in START_LINKS and value:
        return await COMMANDS[START_LINKS[kind]].handler(ctx, value)
    t = ctx.t
    card = (
        Card()
        .add(bold(t("Hi {name}! I connect people who share a hobby.", name=ctx.actor.display_name)))
        .add(t("• /groups to find interest groups, /join to join one"))
        .add(t("• /events for upcoming activities: sign up with one tap"))
        .add(t("• /posts to read guides and stories, /post to share yours"))
        .add(t("• /settings for language, timezone and reminders"))
        .add(t("/help lists everything."))
    )
    return Reply(cards=[card])


@command("help", usage=N_("/help"), help=N_("All commands"), section="start")
async def help_command(ctx: Context, args: str) -> Reply:
    t = ctx.t
    card = Card()
    listed = commands_on(ctx.actor.platform).values()
    for section, title in SECTIONS.items():
        items = [c for c in listed if c.section == section]
        if not items:
            continue
        if card.lines:
            card.add("")
        card.add(bold(t(title)))
        for item in items:
            card.add(code(t(item.usage)), plain(" — " + t(item.help)))
    return Reply(cards=[card])


SETTING_EXAMPLES = {  # what each setting takes, shown when it was typed without a value
    "language": "/settings language zh",
    "lang": "/settings language zh",
    "timezone": "/settings timezone Europe/Berlin",
    "tz": "/settings timezone Europe/Berlin",
    "reminders": "/settings reminders 2h,30m",
    "discoverable": "/settings discoverable on",
    "name": "/settings name Maya",
    "platform": "/settings platform telegram",
}


@command(
    "settings",
    usage=N_(
        "/settings [language en|zh|auto] [timezone <Area/City>] [reminders on|off|24h,1h] "
        "[discoverable on|off] [name <name>] [platform telegram|discord|auto]"
    ),
    help=N_("Your language, timezone, reminders, visibility and name"),
    section="start",
)
async def settings_command(ctx: Context, args: str) -> Reply:
    only_in_private(ctx, "settings")  # one's timezone, language and reminders, or a change
    pairs = _setting_pairs(args)
    key = next((key for key, value in pairs if not _settable(key, value)), "")
    if pairs and not key:
        return await _change_settings(ctx, pairs)
    async with ctx.uow(readonly=True) as uow:
        person = await people.get_person(uow, ctx.me)
    t = ctx.t
    reminders = person.reminder_offsets or t("the activity's own")  # see set_reminders
    card = Card()
    if key:  # typed, but not a change this command makes: say so before the settings
        example = SETTING_EXAMPLES.get(key)
        card.add(
            plain("⚠️ "),
            plain(
                t("Nothing changed: say what to set it to, e.g. {example}", example=example)
                if example
                else t(
                    "Nothing changed: “{key}” is not a setting (language, timezone, reminders, "
                    "discoverable, name, platform).",
                    key=key,
                )
            ),
        ).add("")
    card = (
        card.add(bold(t("Your settings")))
        .add(plain(t("Name: ")), plain(person.display_name))
        .add(plain(t("Language: ")), plain(t.locale if person.locale else f"auto ({t.locale})"))
        .add(
            plain(t("Timezone: ")),
            plain(person.timezone or t("not set (activity times use their own)")),
        )
        .add(plain(t("Reminders: ")), plain(reminders if person.reminders_enabled else t("off")))
        .add(
            plain(t("Discoverable in /companions: ")),
            plain(t("on") if person.discoverable else t("off")),
        )
        .add("")
        .add(
            plain(t("Change one: ")),
            code("/settings language zh"),
            plain(", "),
            code("/settings timezone Europe/Berlin"),
            plain(", "),
            code("/settings reminders 2h,30m"),
        )
    )
    return Reply(cards=[card])


SETTING_ALIASES = {"lang": "language", "tz": "timezone"}


def _setting_pairs(args: str) -> list[tuple[str, str]]:
    """`language zh timezone Europe/Berlin` -> [(language, zh), (timezone, Europe/Berlin)]:
    each setting's word starts a pair and its value runs up to the next one (a name may have
    spaces). A first word that is no setting is a pair of its own, to be refused."""
    pairs: list[tuple[str, list[str]]] = []
    for word in args.split():
        key = word.lower()
        if key in SETTING_EXAMPLES or not pairs:
            pairs.append((SETTING_ALIASES.get(key, key), []))
        else:
            pairs[-1][1].append(word)
    return [(key, " ".join(words)) for key, words in pairs]


def _settable(key: str, value: str) -> bool:
    if key == "discoverable":
        return value.lower() in ("on", "off")
    return key in SETTING_EXAMPLES and bool(value)


async def _change_settings(ctx: Context, pairs: list[tuple[str, str]]) -> Reply:
    """Every setting typed in one /settings, or none of them: the setters' own commits are held
    (a flush each, for what the next one reads) until the last one has taken its value."""
    stored: dict[str, object] = {}
    async with ctx.uow() as uow:
        commit, uow.commit = uow.commit, uow.session.flush  # type: ignore[method-assign]
        for key, value in pairs:
            stored[key] = await _set(ctx, uow, key, value)
        await commit()
    if "language" in stored:
        ctx.t = Translator(str(stored["language"]))
    card = Card()
    for key, value in pairs:
        card.add(_saved(ctx, key, stored[key], value))
    return Reply(cards=[card])


async def _set(ctx: Context, uow: UnitOfWork, key: str, value: str) -> object:
    if key == "language":
        return await people.set_language(uow, ctx.me, value)
    if key == "timezone":
        return await people.set_timezone(uow, ctx.me, value)
    if key == "reminders":
        return await people.set_reminders(uow, ctx.me, value, ctx.clock.now())
    if key == "name":
        return await people.rename(uow, ctx.me, value)
    if key == "platform":
        return await people.set_preferred_platform(uow, ctx.me, value)
    on = value.lower() == "on"  # discoverable
    await discovery.set_discoverable(uow, ctx.me, on)
    return on


def _saved(ctx: Context, key: str, stored: object, typed: str) -> str:
    """What a changed setting now is, in the language the person now speaks."""
    t = ctx.t
    if key == "language":
        auto = typed.strip().lower() in people.AUTO_WORDS  # none of their own: the app's
        return t("Language saved: {value}", value=f"auto ({stored})" if auto else stored)
    if key == "timezone":
        if stored:
            return t("Timezone saved: {value}", value=stored)
        return t("Timezone cleared: times show in each activity's own.")
    if key == "reminders":
        if stored == "off":
            return t("Reminders off.")
        return t("Reminders saved: {value}", value=stored or t("the activity's own"))
    if key == "name":
        return t("Name saved: {value}", value=stored)
    if key == "platform":
        if stored is None:
            return t("Messages reach you where you used me last.")
        return t(
            "Messages reach you on {platform} first.",
            platform=PLATFORM_NAMES.get(str(stored), str(stored)),
        )
    if stored:
        return t("Others can now find you in /companions (your name and shared interests only).")
    return t("You're hidden from /companions again.")


@command(
    "link",
    usage=N_("/link [code]"),
    help=N_("Join your accounts on Telegram and Discord into one"),
    section="start",
)
async def link_command(ctx: Context, args: str) -> Reply:
    only_in_private(ctx, "link")  # a code shown in a group chat makes anyone there its owner
    if args.strip():
        async with ctx.uow() as uow:
            linked = await linking.redeem(uow, ctx.clock, ctx.me, args)
        text = ctx.t(
            "Linked: you are one person on {platforms}. Your groups, sign-ups and settings are "
            "together now.",
            platforms=ctx.t(", ").join(PLATFORM_NAMES.get(p, p) for p in linked.platforms),
        )
        return Reply(cards=[note(text)])
    async with ctx.uow() as uow:
        code = await linking.issue(uow, ctx.clock, ctx.me, ctx.actor.platform)
    card = (
        Card()
        .add(plain(ctx.t("Your code: ")), code_span(linking.shown(code)))
        .add(
            ctx.t(
                "On your other platform, send /link {code} to me within 10 minutes. Only you "
                "should see this code.",
                code=linking.shown(code),
            )
        )
    )
    username = ctx.services.settings.telegram_bot_username
    if username and ctx.actor.platform != "telegram":
        url = f"https://t.me/{username.lstrip('@')}?start=link_{code}"
        card.row(Button(ctx.t("Link my Telegram account"), url=url))
    return Reply(cards=[card])


@command(
    "unlink",
    usage=N_("/unlink"),
    help=N_("Take this account out of your linked ones"),
    section="start",
)
async def unlink_command(ctx: Context, args: str) -> Reply:
    async with ctx.uow() as uow:
        await linking.unlink(uow, ctx.clock, ctx.me, ctx.actor.platform, ctx.actor.external_id)
    text = ctx.t(
        "Unlinked: this account is on its own again. Your groups and sign-ups stay with your "
        "other account."
    )
    return Reply(cards=[note(text)])


@command(
    "cancel",
    usage=N_("/cancel"),
    help=N_("Stop what you're in the middle of"),
    section="start",
    hidden_on=("discord",),  # nothing half-done there: a Discord form is closed by its own ✕
)
async def cancel_command(ctx: Context, args: str) -> Reply:
    event_id = number(args) if args.strip() else None
    if event_id is not None:  # "/cancel 3": their sign-up for #3, if they hold one
        async with ctx.uow(readonly=True) as uow:
            view = await events.get_event(uow, ctx.me, event_id)  # "No activity #3" if none
        if view.viewer_status is None:
            text = ctx.t(
                "/cancel stops what you're in the middle of. You have no sign-up for activity "
                "#{id} to cancel.",
                id=event_id,
            )
            return Reply(cards=[note(text)])
        text = ctx.t(
            "/cancel stops what you're in the middle of. To cancel your sign-up for activity "
            "#{id}, send /unsignup {id} or tap below.",
            id=event_id,
        )
        button = Button(ctx.t("❌ Cancel my sign-up"), act(Act.CANCEL_SIGNUP, event_id))
        return Reply(cards=[note(text).row(button)])
    return Reply(cards=[note(ctx.t("Nothing to cancel."))])

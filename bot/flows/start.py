"""First contact: welcome, timezone (detected when the platform tells us, otherwise asked), language;
and /settings to change them later (and, for a person with an email address, the reminder email)."""

from __future__ import annotations

from enum import StrEnum

from bot.flows.actions import Choice, Stamp, Text
from bot.flows.base import Context, Flow, outdated
from bot.flows.timezones import COMMON, find_timezone
from bot.i18n import Translator, available_locales
from bot.replies import rows
from bot.words import language_name as _language_name

NAME = "start"


class Act(StrEnum):
    """Every press this flow takes: readable names in the code, short wire codes (bot/payloads.py) as values."""

    TIMEZONE = "tz"
    LANGUAGE = "lang"
    EMAIL_REMINDERS = "mail"
    ASK_TIMEZONE = "ask_tz"
    ASK_LANGUAGE = "ask_lang"


class StartFlow(Flow):
    name = NAME
    commands = ("start", "settings")
    actions = {
        Act.TIMEZONE: (Stamp(), Text(64)), Act.LANGUAGE: (Stamp(), Text(16)),
        Act.EMAIL_REMINDERS: (Stamp(), Choice(("on", "off"))),
        Act.ASK_TIMEZONE: (Stamp(),), Act.ASK_LANGUAGE: (Stamp(),),
    }

    def start(self, ctx: Context, args: str) -> None:
        command = ctx.incoming.command
        if command == "settings":
            self._settings(ctx)
            return
        if args and _open_link(ctx, args):  # a t.me/<bot>?start=... link
            return
        if args:
            ctx.say(ctx.t("That link does not lead to an expert I know; they may have left. Here is what I can do."))
        HelpFlow().start(ctx, "")  # someone we know already: no second welcome

    def welcome(self, ctx: Context, then: str = "", command: tuple[str, str] | None = None) -> None:
        """First contact. `then` is a deep link to open once the person is set up; `command` the command
        (name, args) they came with, run then instead of being lost."""
        t = ctx.t
        ctx.say(t("Welcome to Headstrt, {name}! I help you book mentorship sessions with experts, and experts "
                  "answer requests right here.", name=ctx.person.name))
        held = list(command) if command else []
        if ctx.sender.timezone:
            ctx.say(t("I will show times in {zone}, your timezone. Change it any time with /settings.",
                      zone=ctx.person.timezone))
            ctx.goto(NAME, "welcome", then=then, command=held)
            self._ask_language_or_finish(ctx)
        else:
            self._ask_timezone(ctx)
            ctx.data.update(then=then, command=held)

    def _settings(self, ctx: Context) -> None:
        t = ctx.t
        ctx.goto(NAME, "settings")
        lines = [t("Your settings: timezone {zone}, language {language}.", zone=ctx.person.timezone,
                   language=_language_name(ctx.person.locale, ctx.person.locale))]
        buttons = [ctx.step_button(t("Change timezone"), NAME, Act.ASK_TIMEZONE)]
        if len(available_locales()) > 1:
            buttons.append(ctx.step_button(t("Change language"), NAME, Act.ASK_LANGUAGE))
        if ctx.person.email:  # without an address there is no email to turn on or off
            on = ctx.person.email_reminders
            lines.append(t("Email reminders: on.") if on else t("Email reminders: off."))
            buttons.append(ctx.step_button(t("Turn email reminders off") if on else t("Turn email reminders on"),
                                           NAME, Act.EMAIL_REMINDERS, "off" if on else "on"))
        ctx.say("\n".join(lines), (tuple(buttons),))

    def _set_email_reminders(self, ctx: Context, on: bool) -> None:
        ctx.person.email_reminders = on
        ctx.uow.people.save(ctx.person)
        ctx.finish()
        ctx.say(ctx.t("Email reminders are on: an email with the calendar invite comes 24 hours before each "
                      "session.") if on else ctx.t("Email reminders are off. Chat reminders still come."))

    def _ask_timezone(self, ctx: Context) -> None:
        ctx.goto(NAME, "timezone")
        buttons = [ctx.step_button(zone, NAME, Act.TIMEZONE, zone) for zone in COMMON]
        ctx.say(ctx.t("Which timezone are you in? Pick one, or type your city or zone (for example “Kolkata” "
                      "or “America/Chicago”)."), rows(buttons, 2))

    def _ask_language_or_finish(self, ctx: Context) -> None:
        """Asked only when the platform did not tell us the person's language (the console never does)."""
        locales = available_locales()
        if len(locales) > 1 and not ctx.sender.language:
            ctx.goto(NAME, "language")
            buttons = [ctx.step_button(_language_name(code, code), NAME, Act.LANGUAGE, code) for code in locales]
            ctx.say(ctx.t("Which language should I use?"), rows(buttons, 3))
            return
        self._done(ctx)

    def _done(self, ctx: Context) -> None:
        then = str(ctx.data.get("then") or "")
        command = ctx.data.get("command")
        ctx.finish()
        if then and _open_link(ctx, then):
            return
        if isinstance(command, list) and len(command) == 2 and command[0]:
            ctx.then_command = (str(command[0]), str(command[1]))  # their answer is what they asked for
            return
        ctx.say(ctx.t("All set. Type what you need help with (for example “pricing for B2B SaaS”) or use /book. "
                      "/help lists everything I can do."))

    def _set_timezone(self, ctx: Context, zone: str) -> None:
        ctx.person.timezone = zone
        ctx.uow.people.save(ctx.person)
        ctx.t = Translator(ctx.person.locale, zone)
        ctx.say(ctx.t("Timezone set to {zone}. It is now {now} there.", zone=zone, now=ctx.t.when(ctx.clock.now())))

    def on_text(self, ctx: Context, text: str) -> None:
        if ctx.convo.step != "timezone":
            super().on_text(ctx, text)
            return
        zone, close = find_timezone(text)
        if zone is None:
            if close:
                buttons = [ctx.step_button(z, NAME, Act.TIMEZONE, z) for z in close]
                ctx.say(ctx.t("I don't know the timezone “{text}”. Did you mean one of these?", text=text),
                        rows(buttons, 2))
            else:
                ctx.say(ctx.t("I don't know the timezone “{text}”. Try a city like “Berlin” or a zone like "
                              "“Asia/Kolkata”.", text=text))
            return
        self._set_timezone(ctx, zone)
        self._after_timezone(ctx)

    def _after_timezone(self, ctx: Context) -> None:
        if ctx.data.get("from_settings"):
            ctx.finish()
        else:
            self._ask_language_or_finish(ctx)

    def on_press(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        if not ctx.pressed_current(NAME, args):
            outdated(ctx)
            return
        if action == Act.TIMEZONE and len(args) == 2:
            zone, _ = find_timezone(args[1])
            if zone is None:
                outdated(ctx)
                return
            self._set_timezone(ctx, zone)
            self._after_timezone(ctx)
        elif action == Act.LANGUAGE and len(args) == 2 and args[1] in available_locales():
            ctx.person.locale = args[1]
            ctx.uow.people.save(ctx.person)
            ctx.t = Translator(args[1], ctx.person.timezone)
            ctx.say(ctx.t("Language set to {language}.", language=_language_name(args[1], args[1])))
            if ctx.data.get("from_settings"):
                ctx.finish()
            else:
                self._done(ctx)
        elif action == Act.EMAIL_REMINDERS and len(args) == 2 and args[1] in ("on", "off") and ctx.person.email:
            self._set_email_reminders(ctx, args[1] == "on")
        elif action == Act.ASK_TIMEZONE:
            self._ask_timezone(ctx)
            ctx.data["from_settings"] = True
        elif action == Act.ASK_LANGUAGE:
            locales = available_locales()
            ctx.goto(NAME, "language", from_settings=True)
            buttons = [ctx.step_button(_language_name(code, code), NAME, Act.LANGUAGE, code) for code in locales]
            ctx.say(ctx.t("Which language should I use?"), rows(buttons, 3))
        else:
            outdated(ctx)


def _open_link(ctx: Context, args: str) -> bool:
    from bot.flows.book import open_deep_link  # imported late: book imports this module's neighbours

    return open_deep_link(ctx, args)


class HelpFlow(Flow):
    name = "help"
    commands = ("help",)

    def start(self, ctx: Context, args: str) -> None:
        t = ctx.t
        expert = ctx.uow.experts.by_person(ctx.person.id or 0) is not None
        lines = [
            t("Here is what I can do:"),
            t("/book [topic] — find an expert and request a session (or just type what you need help with)"),
            t("/sessions — your upcoming, past and cancelled sessions, to cancel, reschedule or review"),
            t("/credits — your balance and where it came from"),
            t("/settings — your timezone and language"),
            t("/cancel — stop what we are doing; nothing is booked until you confirm"),
        ]
        if expert:
            lines.append(t("/requests — requests waiting for your answer"))
            lines.append(t("/availability — your weekly hours and days off"))
        if ctx.person.is_staff:
            lines.append(t("/grant — give credits; /assign — assign an expert to a company; /triage — requests to approve"))
        ctx.say("\n".join(lines))

"""The request's details: title, outcome, intro note and context (one step each, or the details form at
once), then files."""

from __future__ import annotations

from datetime import datetime

from core.errors import InvalidSession
from core.experts import Expert
from core.sessions import SessionDetails, validate_details
from bot.flows.base import Context
from bot.flows.errors import explain
from bot.flows.time_picker import calendar
from bot.replies import Button
from bot.flows.booking.draft import (DETAIL_STEPS, DETAILS_FORM, FILES_NEXT, FORM_STEPS, NAME, check_details,
                                     details_of, picked_times, too_long)
from bot.flows.booking.times import choose_times


def ask_detail(ctx: Context, expert: Expert, step: str, lead: list[str] | None = None) -> None:
    t = ctx.t
    ctx.step(step)
    lines = list(lead or [])
    buttons: tuple[tuple[Button, ...], ...] = ()
    if step == "title":
        lines.append(t("Give the session a short title (at most 80 characters), for example “Fundraising strategy "
                       "advice” or “Product roadmap review”."))
    elif step == "outcome":
        lines.append(t("What outcome do you want from it? Aim for something meaningful yet achievable: a request with "
                       "a clear, reasonable ask is more likely to be accepted and to deliver."))
    elif step == "intro":
        lines.append(t("Optional: an intro note for {expert}. It is a good way to break the ice and greet your mentor.",
                       expert=expert.name))
        buttons = ((ctx.step_button(t("Skip"), NAME, "skip"),),)
    elif step == "context":
        lines.append(t("Optional: context for {expert}: your background, where you are now, the questions you have, "
                       "anything to read beforehand. Clear context helps them prepare.", expert=expert.name))
        buttons = ((ctx.step_button(t("Skip"), NAME, "skip"),),)
    else:
        lines.append(t("Optional: attach files (pitch deck, CV, screenshots) by sending them now. Press Done when "
                       "you have added everything, or if there is nothing to attach."))
        buttons = ((ctx.step_button(t("Done"), NAME, "done"),),)
    ctx.say("\n".join(lines), buttons, form=DETAILS_FORM if step == FORM_STEPS[0] else "")


def times_gone(ctx: Context, expert: Expert) -> datetime | None:
    """The first chosen time another booking has taken since it was picked, if any."""
    assert expert.id is not None
    minutes = int(ctx.data.get("len") or 0)
    cal = calendar(ctx, expert.id, minutes)
    for at in sorted(picked_times(ctx)):
        if cal.problem(at, minutes) is not None:
            return at
    return None


def next_detail(ctx: Context, expert: Expert, step: str) -> None:
    following = DETAIL_STEPS[DETAIL_STEPS.index(step) + 1]
    ask_detail(ctx, expert, following)


def take_detail(ctx: Context, expert: Expert, step: str, text: str) -> None:
    """Validated by the core's rules; a refusal says why and keeps everything typed so far."""
    t = ctx.t
    title = str(ctx.data.get("title") or "-")
    outcome = str(ctx.data.get("outcome") or "-")
    draft = {
        "title": SessionDetails(text, outcome),
        "outcome": SessionDetails(title, text),
        "intro": SessionDetails(title, outcome, intro_note=text),
        "context": SessionDetails(title, outcome, context=text),
    }[step]
    try:
        clean = validate_details(draft)
    except InvalidSession as error:
        if error.reason in ("intro_note_too_long", "context_too_long"):
            message = too_long(t, error.context.get("limit"), len(text))
        else:
            message = explain(t, error, ctx.person)
            if text and error.reason.endswith("too_long"):
                message += " " + t("Yours has {count}.", count=len(text))
        ask_detail(ctx, expert, step, lead=[message])
        return
    value = {"title": clean.title, "outcome": clean.outcome, "intro": clean.intro_note, "context": clean.context}[step]
    ctx.data[step] = value
    next_detail(ctx, expert, step)


def take_form(ctx: Context, expert: Expert, fields: dict[str, str]) -> None:
    """Title, outcome, intro and context at once (Slack's modal): the same rules as typing them one by one,
    refused field by field. The chosen times are checked again, since they may have gone while the form was
    open: the details are kept and the person picks again in the chat (the form is closed by then)."""
    t = ctx.t
    errors = check_details(t, fields)
    if errors:
        ctx.form_errors.update(errors)
        return
    clean = validate_details(details_of(fields))
    ctx.data.update(title=clean.title, outcome=clean.outcome, intro=clean.intro_note, context=clean.context)
    gone = times_gone(ctx, expert)
    if gone:
        ctx.data[FILES_NEXT] = True  # as after a form taken at once: the files step, then the summary
        choose_times(ctx, expert, lead=[t("Sorry, {when} was just taken. Your details are saved: please pick "
                                          "another time.", when=t.both(gone, expert.timezone))])
        return
    ask_detail(ctx, expert, "files", lead=[t("Thanks, the details are in: “{title}”.", title=clean.title)])

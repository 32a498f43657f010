"""Programme staff: /grant credits to a person or a company, /assign an expert to a company, and
/triage the requests of triage-first programmes (approve, reassign, decline).

Staff are checked on every step, not only at the command: a person who stops being staff
mid-conversation gets the refusal on their next message.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from core import booking_service as bs
from core.amounts import credits_to_milli
from core.availability import check_slot
from core.credit_service import grant
from core.credits import Source
from core.discovery import SearchQuery, query_terms
from core.errors import InvalidSession, InvalidTransition, NotAllowed, NotFound
from core.experts import Expert
from core.lifecycle import BookingStatus
from core.model import Booking, Company
from core.sessions import MeetingRequest, SessionRules, validate_meetings
from bot.flows.actions import ID_MAX, Choice, Id, Stamp, ascii_int
from bot.flows.base import Context, Flow, outdated
from bot.i18n import Translator
from bot.payloads import p
from bot.replies import Button, Reply, rows
from storage.people_repo import ExpertRef

NAME = "staff"
TRIAGE = "tri"


class Act(StrEnum):
    """Every press this flow takes: readable names in the code, short wire codes (bot/payloads.py) as values."""

    STOP = "stop"
    CONFIRM = "ok"
    WHO = "who"
    SOURCE = "src"
    COMPANY = "co"
    EXPERT = "ex"


class TriageAct(StrEnum):
    """The presses of TriageFlow: readable names, short wire codes."""

    APPROVE = "ok"
    REASSIGN = "re"
    DECLINE = "no"
    KEEP = "keep"
    DECLINE_NO_REASON = "nook"
    REASSIGN_TO = "to"


def triage_buttons(t: Translator, booking_id: int, *, n: int | None = None) -> tuple[Button, ...]:
    """Approve, Reassign, Decline for a request waiting for triage (numbered in the /triage list)."""
    if n is None:
        labels = t("Approve"), t("Reassign"), t("Decline")
    else:
        labels = t("Approve {n}", n=n), t("Reassign {n}", n=n), t("Decline {n}", n=n)
    return tuple(Button(label, p(TRIAGE, action, booking_id))
                 for label, action in zip(labels, (TriageAct.APPROVE, TriageAct.REASSIGN, TriageAct.DECLINE)))


MAX_CREDITS = 100_000  # a typo guard: more than this in one grant is almost certainly a mistake
TRIAGE_PAGE = 8  # 8 cards x 3 buttons = 24, within the 25-button limit
SUGGESTIONS = 6
REASON_MAX = 500


# ---------------------------------------------------------------- shared helpers


def refuse(ctx: Context) -> None:
    ctx.say(ctx.t("Only programme staff can do that. If you think you should have access, ask your programme team."))


def source_words(t: Translator, source: Source) -> str:
    if source is Source.PROGRAMME:
        return t("programme allocation")
    if source is Source.COMPANY:
        return t("company allocation")
    return t("individual credits")


def read_amount(t: Translator, text: str) -> tuple[int | None, str]:
    """Millicredits, or None and the sentence that says what was wrong."""
    raw = text.strip().lower()
    for word in ("credits", "credit"):
        if raw.endswith(word):
            raw = raw[: -len(word)].strip()
    if "," in raw and "." not in raw:
        raw = raw.replace(",", ".")
    try:
        milli = credits_to_milli(raw)
    except ValueError:
        if raw.replace(".", "", 1).isdigit():
            return None, t("Credits are counted in thousandths: use at most 3 decimals, for example 0.125.")
        return None, t("“{text}” is not an amount. Type a number of credits, for example 2 or 0.5.", text=text.strip())
    if milli <= 0:
        return None, t("Please give a positive amount, for example 2 or 0.5.")
    if milli > MAX_CREDITS * 1000:
        return None, t.plural("That is more than {max} credit in one grant; please check the amount.",
                              "That is more than {max} credits in one grant; please check the amount.",
                              t.credits_n(MAX_CREDITS * 1000), max=t.credits(MAX_CREDITS * 1000))
    return milli, ""


# ---------------------------------------------------------------- /grant, /assign, /triage


class StaffFlow(Flow):
    name = NAME
    commands = ("grant", "assign", "triage")
    actions = {
        Act.STOP: (Stamp(),), Act.CONFIRM: (Stamp(),),
        Act.WHO: (Stamp(), Choice(("p", "c")), Id()),
        Act.SOURCE: (Stamp(), Choice(tuple(s.value for s in Source))),
        Act.COMPANY: (Stamp(), Id()), Act.EXPERT: (Stamp(), Id()),
    }

    def start(self, ctx: Context, args: str) -> None:
        if not ctx.person.is_staff:
            refuse(ctx)
            return
        t = ctx.t
        command = ctx.incoming.command
        if command == "triage":
            show_triage(ctx)
            return
        if command == "assign":
            ctx.goto(NAME, "a_company")
            if args.strip():
                self._assign_company_typed(ctx, args)
                return
            ctx.say(t("Which company gets an expert? Type the company's name."), self._stop_row(ctx))
            return
        ctx.goto(NAME, "g_who")
        if args.strip():
            self._who_typed(ctx, args)
            return
        ctx.say(t("Who gets the credits? Type a person's @handle or a company's name."), self._stop_row(ctx))

    def _stop_row(self, ctx: Context) -> tuple[tuple[Button, ...], ...]:
        return ((ctx.step_button(ctx.t("Stop"), NAME, Act.STOP),),)

    # ---- text

    def on_text(self, ctx: Context, text: str) -> None:
        if not ctx.person.is_staff:
            ctx.finish()
            refuse(ctx)
            return
        step = ctx.convo.step
        if step == "g_who":
            self._who_typed(ctx, text)
        elif step == "g_amount":
            milli, problem = read_amount(ctx.t, text)
            if milli is None:
                ctx.say(problem)
                return
            self._confirm_grant(ctx, milli)
        elif step == "a_company":
            self._assign_company_typed(ctx, text)
        elif step == "a_expert":
            self._assign_expert_typed(ctx, text)
        else:
            super().on_text(ctx, text)

    # ---- presses

    def on_press(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        if not ctx.pressed_current(NAME, args):
            outdated(ctx)
            return
        if not ctx.person.is_staff:
            ctx.finish()
            refuse(ctx)
            return
        rest = args[1:]
        step = ctx.convo.step
        if action == Act.STOP:
            ctx.finish()
            ctx.say(ctx.t("Stopped. Nothing was changed."), replace=True)
        elif (action == Act.WHO and step == "g_who" and len(rest) == 2 and rest[0] in ("p", "c")
              and ascii_int(rest[1], 1, ID_MAX)):
            self._pick_target(ctx, rest[0], int(rest[1]))
        elif action == Act.SOURCE and step == "g_source" and rest and rest[0] in {s.value for s in Source}:
            source = Source(rest[0])
            if source is Source.INDIVIDUAL and ctx.data["kind"] != "p":
                outdated(ctx)
                return
            ctx.step("g_amount", source=source.value)
            ctx.say(ctx.t("How many credits ({source}) for {name}? Type a number, for example 2 or 0.5.",
                          source=source_words(ctx.t, source), name=ctx.data["label"]), self._stop_row(ctx))
        elif action == Act.CONFIRM and step == "g_confirm":
            self._grant(ctx)
        elif action == Act.COMPANY and step == "a_company" and rest and ascii_int(rest[0], 1, ID_MAX):
            company = ctx.uow.people.company(int(rest[0]))
            if company is None:
                outdated(ctx)
                return
            self._ask_expert(ctx, company)
        elif action == Act.EXPERT and step == "a_expert" and rest and ascii_int(rest[0], 1, ID_MAX):
            expert = ctx.uow.experts.get(int(rest[0]))
            if expert is None:
                outdated(ctx)
                return
            self._assign(ctx, expert)
        else:
            outdated(ctx)

    # ---- grant

    def _who_typed(self, ctx: Context, text: str) -> None:
        t = ctx.t
        needle = text.strip()
        if not needle:
            ctx.say(t("Type a person's @handle or a company's name."))
            return
        company = None if needle.startswith("@") else ctx.uow.people.company_by_name(needle, any_case=True)
        if company is not None:
            self._pick_target(ctx, "c", company.id)
            return
        person = ctx.uow.people.by_handle(needle)
        if person is not None and person.id is not None:
            self._pick_target(ctx, "p", person.id)
            return
        people = ctx.uow.people.find(needle)
        companies = [] if needle.startswith("@") else ctx.uow.people.companies_like(needle)
        buttons = [ctx.step_button(f"@{p.handle} ({p.name})"[:75], NAME, Act.WHO, "p", p.id) for p in people]
        buttons += [ctx.step_button(c.name[:75], NAME, Act.WHO, "c", c.id) for c in companies]
        if buttons:
            ctx.say(t("I don't know “{text}”. Did you mean one of these? Or type it again.", text=needle),
                    rows(buttons[:10], 2) + self._stop_row(ctx))
        else:
            ctx.say(t("I don't know “{text}”: no person has that @handle and no company has that name. Please type "
                      "it again.", text=needle), self._stop_row(ctx))

    def _pick_target(self, ctx: Context, kind: str, target_id: int) -> None:
        t = ctx.t
        if kind == "p":
            person = ctx.uow.people.get(target_id)
            if person is None:
                outdated(ctx)
                return
            label = f"@{person.handle} ({person.name})"
            sources: tuple[Source, ...] = (Source.PROGRAMME, Source.COMPANY, Source.INDIVIDUAL)
        else:
            company = ctx.uow.people.company(target_id)
            if company is None:
                outdated(ctx)
                return
            label = company.name
            sources = (Source.PROGRAMME, Source.COMPANY)
        ctx.step("g_source", kind=kind, target=target_id, label=label)
        buttons = [ctx.step_button(_source_button(t, s), NAME, Act.SOURCE, s.value) for s in sources]
        ctx.say(t("Which kind of credits for {name}?", name=label), (tuple(buttons),) + self._stop_row(ctx))

    def _confirm_grant(self, ctx: Context, milli: int) -> None:
        t = ctx.t
        source = Source(ctx.data["source"])
        # The key is fixed when the confirmation is shown: two presses of Confirm grant once.
        ctx.step("g_confirm", amount=milli, key=f"staff:{ctx.incoming.event_id}")
        lines = [t.plural("Grant {credits} credit ({source}) to {name}?",
                          "Grant {credits} credits ({source}) to {name}?",
                          t.credits_n(milli), credits=t.credits(milli),
                          source=source_words(t, source), name=ctx.data["label"])]
        if ctx.data["kind"] == "c":
            count = len(ctx.uow.people.members(ctx.data["target"]))
            lines.append(t.plural("Its {n} member shares them and will be told.", "Its {n} members share them and will be told.", count) if count
                         else t("The company has no members yet; the credits wait for them."))
        ctx.say("\n".join(lines), ((ctx.step_button(t("Confirm grant"), NAME, Act.CONFIRM),
                                    ctx.step_button(t("Stop"), NAME, Act.STOP)),))

    def _grant(self, ctx: Context) -> None:
        t = ctx.t
        kind, target, milli = ctx.data["kind"], ctx.data["target"], ctx.data["amount"]
        source = Source(ctx.data["source"])
        applied = grant(
            ctx.uow, key=ctx.data["key"], amount_milli=milli, source=source,
            person_id=target if kind == "p" else None, company_id=target if kind == "c" else None,
            actor_id=ctx.person.id, note=f"@{ctx.person.handle}",
        )
        label = ctx.data["label"]
        ctx.finish()
        if not applied:
            ctx.say(t("That grant was already made; nothing changed."), replace=True)
            return
        if kind == "p":
            person = ctx.uow.people.get(target)
            told = [person] if person is not None else []
            company_name = ""
        else:
            told = ctx.uow.people.members(target)
            company = ctx.uow.people.company(target)
            company_name = company.name if company else label
        for member in told:
            assert member.id is not None
            tm = Translator(member.locale, member.timezone)
            if kind == "p":
                text = tm.plural("{staff} granted you {credits} credit ({source}). /credits shows your balance.",
                                 "{staff} granted you {credits} credits ({source}). /credits shows your balance.",
                                 tm.credits_n(milli),
                                 staff=ctx.person.name, credits=tm.credits(milli), source=source_words(tm, source))
            else:
                text = tm.plural("{staff} granted {credits} credit ({source}) to {company}; everyone at {company} "
                                 "can use it. /credits shows your balance.",
                                 "{staff} granted {credits} credits ({source}) to {company}; everyone at {company} "
                                 "can use them. /credits shows your balance.",
                                 tm.credits_n(milli), staff=ctx.person.name, company=company_name,
                                 credits=tm.credits(milli), source=source_words(tm, source))
            ctx.notify(member.id, Reply(text), key=f"{ctx.incoming.event_id}:grant:{member.id}")
        done = t.plural("Granted {credits} credit ({source}) to {name}.",
                        "Granted {credits} credits ({source}) to {name}.",
                        t.credits_n(milli), credits=t.credits(milli),
                        source=source_words(t, source), name=label)
        if kind == "p":
            done += " " + t("I told them.")
        elif told:
            done += " " + t.plural("I told its {n} member.", "I told its {n} members.", len(told))
        ctx.say(done, replace=True)

    # ---- assign

    def _assign_company_typed(self, ctx: Context, text: str) -> None:
        t = ctx.t
        company = ctx.uow.people.company_by_name(text, any_case=True)
        if company is not None:
            self._ask_expert(ctx, company)
            return
        close = ctx.uow.people.companies_like(text)
        if close:
            ctx.say(t("There is no company called “{text}”. Did you mean one of these? Or type it again.", text=text.strip()),
                    rows([ctx.step_button(c.name[:75], NAME, Act.COMPANY, c.id) for c in close], 2) + self._stop_row(ctx))
        else:
            ctx.say(t("There is no company called “{text}”. Please type its name again.", text=text.strip()),
                    self._stop_row(ctx))

    def _ask_expert(self, ctx: Context, company: Company) -> None:
        ctx.goto(NAME, "a_expert", company=company.id, company_name=company.name)
        ctx.say(ctx.t("Which expert should {company} have? Type their @handle.", company=company.name),
                self._stop_row(ctx))

    def _assign_expert_typed(self, ctx: Context, text: str) -> None:
        t = ctx.t
        expert = ctx.uow.experts.by_handle(text.strip())
        if expert is not None:
            self._assign(ctx, expert)
            return
        close = ctx.uow.people.experts_like(text)
        if close:
            ctx.say(t("No expert has the handle “{text}”. Did you mean one of these? Or type it again.", text=text.strip()),
                    rows([_expert_button(ctx, e, NAME, Act.EXPERT) for e in close], 2)
                    + self._stop_row(ctx))
        else:
            ctx.say(t("No expert has the handle “{text}”. Please type it again.", text=text.strip()), self._stop_row(ctx))

    def _assign(self, ctx: Context, expert: Expert) -> None:
        t = ctx.t
        company = ctx.uow.people.company(ctx.data["company"])
        if company is None or expert.id is None:
            outdated(ctx)
            return
        added = ctx.uow.people.assign_expert(company.id, expert.id)
        ctx.finish()
        text = (t("Assigned {expert} to {company}.", expert=expert.name, company=company.name) if added
                else t("{expert} was already assigned to {company}; nothing changed.", expert=expert.name,
                       company=company.name))
        programme = ctx.uow.people.programme(company.programme_id) if company.programme_id else None
        if programme is None or programme.pairing_mode.value != "admin_assigned":
            text += " " + t("Note: {company}'s programme lets its founders book any expert, so the assignment only "
                            "matters if it switches to assigned mentors.", company=company.name)
        ctx.say(text)


def _expert_button(ctx: Context, expert: ExpertRef, flow: str, action: str) -> Button:
    """A suggested expert: pressing it picks them in the current step."""
    return ctx.step_button(f"@{expert.handle} ({expert.name})"[:75], flow, action, expert.expert_id)


def _source_button(t: Translator, source: Source) -> str:
    if source is Source.PROGRAMME:
        return t("Programme")
    if source is Source.COMPANY:
        return t("Company")
    return t("Individual")


# ---------------------------------------------------------------- the triage queue


def show_triage(ctx: Context) -> None:
    t = ctx.t
    bookings = ctx.uow.bookings.awaiting_triage(TRIAGE_PAGE)
    if not bookings:
        ctx.say(t("Nothing is waiting for triage."))
        return
    total = ctx.uow.bookings.awaiting_triage_count()
    experts = ctx.uow.experts.get_many({b.expert_id for b in bookings})
    clients = ctx.uow.people.get_many(b.client_id for b in bookings)
    lines = [t("Requests waiting for triage ({total}):", total=total)]
    if total > len(bookings):
        lines[0] += " " + t("the oldest {n} first.", n=len(bookings))
    buttons: list[tuple[Button, ...]] = []
    for n, b in enumerate(bookings, start=1):
        expert, client = experts.get(b.expert_id), clients.get(b.client_id)
        if expert is None or client is None:
            continue
        first = min(b.meetings, key=lambda m: m.start)
        lines.append(t("{n}. {client} asks {expert}: “{title}”", n=n, client=client.name, expert=expert.name,
                       title=b.details.title))
        lines.append("   " + t("Outcome: {outcome}", outcome=b.details.outcome))
        line = "   " + t.plural("{when}, {minutes} min; {credits} credit",
                                "{when}, {minutes} min; {credits} credits",
                                t.credits_n(b.price_milli), when=t.when(first.start), minutes=first.minutes,
                                credits=t.credits(b.price_milli))
        if len(b.meetings) > 1:
            line += "; " + t.plural("first of {n} meeting", "first of {n} meetings", len(b.meetings))
        lines.append(line)
        assert b.id is not None
        buttons.append(triage_buttons(t, b.id, n=n))
    ctx.say("\n".join(lines), tuple(buttons))


class TriageFlow(Flow):
    """The staff card's buttons: approve at once; reassign and decline ask one more question."""

    name = TRIAGE
    actions = {
        TriageAct.APPROVE: (Id(),), TriageAct.REASSIGN: (Id(),), TriageAct.DECLINE: (Id(),),
        TriageAct.KEEP: (Stamp(),), TriageAct.DECLINE_NO_REASON: (Stamp(),), TriageAct.REASSIGN_TO: (Stamp(), Id()),
    }

    def start(self, ctx: Context, args: str) -> None:  # no command: reached by buttons only
        outdated(ctx)

    def _waiting(self, ctx: Context, booking_id: int) -> Booking:
        if not ctx.person.is_staff:
            raise NotAllowed("only programme staff can triage", reason="not_staff")
        booking = ctx.uow.bookings.get(booking_id)
        if booking is None:
            raise NotFound(f"no booking {booking_id}", reason="booking_not_found")
        if booking.status is not BookingStatus.AWAITING_TRIAGE:
            raise InvalidTransition("not in triage", reason=f"booking_{booking.status}")
        return booking

    def on_press(self, ctx: Context, action: str, args: tuple[str, ...]) -> None:
        t = ctx.t
        if action in (TriageAct.APPROVE, TriageAct.REASSIGN, TriageAct.DECLINE):
            if len(args) != 1 or not ascii_int(args[0], 1, ID_MAX):
                outdated(ctx)
                return
            booking_id = int(args[0])
            if action == TriageAct.APPROVE:
                booking = bs.triage_approve(ctx.uow, ctx.clock, booking_id=booking_id, staff_id=ctx.person.id or 0)
                expert = ctx.uow.experts.get(booking.expert_id)
                client = ctx.uow.people.get(booking.client_id)
                ctx.say(t("Approved: “{title}” from {client} is now with {expert}.", title=booking.details.title,
                          client=client.name if client else "?", expert=expert.name if expert else "?")
                        + still_waiting(ctx), replace=True)
            elif action == TriageAct.REASSIGN:
                self._ask_expert(ctx, self._waiting(ctx, booking_id))
            else:
                booking = self._waiting(ctx, booking_id)
                client = ctx.uow.people.get(booking.client_id)
                ctx.goto(TRIAGE, "no_why", booking=booking_id)
                ctx.say(t("Decline “{title}” from {client}? Type a short reason for them, or decline without one.",
                          title=booking.details.title, client=client.name if client else "?"),
                        ((ctx.step_button(t("Decline without a reason"), TRIAGE, TriageAct.DECLINE_NO_REASON),
                          ctx.step_button(t("Keep it"), TRIAGE, TriageAct.KEEP)),), replace=True)
            return
        if not ctx.pressed_current(TRIAGE, args):
            outdated(ctx)
            return
        rest = args[1:]
        if action == TriageAct.KEEP:
            ctx.finish()
            ctx.say(t("Nothing changed; the request is still waiting for triage (/triage)."), replace=True)
        elif action == TriageAct.REASSIGN_TO and ctx.convo.step == "re_who" and rest and ascii_int(rest[0], 1, ID_MAX):
            expert = ctx.uow.experts.get(int(rest[0]))
            if expert is None:
                outdated(ctx)
                return
            self._reassign(ctx, expert)
        elif action == TriageAct.DECLINE_NO_REASON and ctx.convo.step == "no_why":
            self._decline(ctx, "")
        else:
            outdated(ctx)

    def on_text(self, ctx: Context, text: str) -> None:
        if ctx.convo.step == "re_who":
            expert = ctx.uow.experts.by_handle(text.strip())
            if expert is not None:
                self._reassign(ctx, expert)
                return
            close = ctx.uow.people.experts_like(text)
            buttons = rows([_expert_button(ctx, e, TRIAGE, TriageAct.REASSIGN_TO) for e in close], 2)
            ctx.say(ctx.t("No expert has the handle “{text}”.", text=text.strip()) + " "
                    + (ctx.t("Did you mean one of these? Or type it again.") if close else ctx.t("Please type it again.")),
                    buttons + ((ctx.step_button(ctx.t("Keep it"), TRIAGE, TriageAct.KEEP),),))
        elif ctx.convo.step == "no_why":
            reason = text.strip()
            if len(reason) > REASON_MAX:
                ctx.say(ctx.t.plural("Please keep the reason under {n} character.", "Please keep the reason under {n} characters.", REASON_MAX))
                return
            self._decline(ctx, reason)
        else:
            super().on_text(ctx, text)

    # ---- reassign

    def _ask_expert(self, ctx: Context, booking: Booking) -> None:
        t = ctx.t
        ctx.goto(TRIAGE, "re_who", booking=booking.id)
        current = ctx.uow.experts.get(booking.expert_id)
        free = suggest_experts(ctx, booking)
        lines = [t("Which expert should take “{title}” instead of {expert}? They need to be free at the same times:",
                   title=booking.details.title, expert=current.name if current else "?")]
        lines += [f"• {t.when(m.start)}, {m.minutes} min" for m in booking.meetings]
        lines.append(t("Type their @handle, or pick one who is free then:") if free else t("Type their @handle."))
        buttons = rows([ctx.step_button(f"{e.name} (@{e.handle})"[:75], TRIAGE, TriageAct.REASSIGN_TO, e.id)
                        for e in free], 2)
        ctx.say("\n".join(lines), buttons + ((ctx.step_button(t("Keep it"), TRIAGE, TriageAct.KEEP),),), replace=True)

    def _reassign(self, ctx: Context, expert: Expert) -> None:
        t = ctx.t
        booking = self._waiting(ctx, ctx.data["booking"])
        if expert.id == booking.expert_id:
            ctx.say(t("{expert} already has this request; approve it instead, or pick someone else.", expert=expert.name))
            return
        old = ctx.uow.experts.get(booking.expert_id)
        new = bs.triage_reassign(ctx.uow, ctx.clock, booking_id=booking.id or 0, staff_id=ctx.person.id or 0,
                                 expert_id=expert.id or 0, policy=ctx.policy)
        ctx.finish()
        ctx.say(t("Reassigned: “{title}” now goes to {expert}; {old} never saw it. The held credits moved with it.",
                  title=new.details.title, expert=expert.name, old=old.name if old else "?") + still_waiting(ctx),
                replace=True)

    # ---- decline

    def _decline(self, ctx: Context, reason: str) -> None:
        t = ctx.t
        booking = self._waiting(ctx, ctx.data["booking"])
        bs.decline(ctx.uow, ctx.clock, booking_id=booking.id or 0, actor_id=ctx.person.id or 0, reason=reason)
        client = ctx.uow.people.get(booking.client_id)
        ctx.finish()
        ctx.say(t("Declined “{title}”; {client} has been told and their credits are back.", title=booking.details.title,
                  client=client.name if client else "?") + still_waiting(ctx), replace=True)


def still_waiting(ctx: Context) -> str:
    """After one decision, how many are left (a press from the /triage list replaces the whole list)."""
    left = ctx.uow.bookings.awaiting_triage_count()
    return " " + ctx.t.plural("{n} more request is waiting: /triage", "{n} more requests are waiting: /triage", left) if left else ""


def suggest_experts(ctx: Context, booking: Booking) -> list[Expert]:
    """Experts matching the request's words who are free at all of its times (a few queries, no per-expert ones)."""
    now = ctx.clock.now()
    intent = f"{booking.details.title} {booking.details.outcome}"
    hits = ctx.uow.experts.search(SearchQuery(intent=intent), query_terms(intent), 30)
    if len(hits) < SUGGESTIONS:
        hits += ctx.uow.experts.search(SearchQuery(), (), 30)
    ids = list(dict.fromkeys(h.expert_id for h in hits if h.expert_id != booking.expert_id))
    if not ids:
        return []
    start = min(m.start for m in booking.meetings) - timedelta(days=1)
    end = max(m.end for m in booking.meetings) + timedelta(days=1)
    schedules = ctx.uow.experts.schedules(ids)
    busy = ctx.uow.experts.busy_many(ids, start, end)
    fitting = [
        i for i in ids if i in schedules and all(
            check_slot(schedules[i], busy[i], m.start, m.end - m.start, now) is None for m in booking.meetings
        )
    ][:SUGGESTIONS]
    profiles = ctx.uow.experts.get_many(fitting)
    client = ctx.uow.people.get(booking.client_id)
    rules = bs.session_rules_for(ctx.uow, client) if client is not None else SessionRules()
    wanted = [MeetingRequest(m.start, m.minutes) for m in booking.meetings]
    return [profiles[i] for i in fitting if i in profiles and profiles[i].person_id != booking.client_id
            and _takes(profiles[i], wanted, rules)]


def _takes(expert: Expert, meetings: list[MeetingRequest], rules: SessionRules) -> bool:
    """Whether the request's meetings fit this expert's rules (a pro-bono expert takes one 15-minute meeting)."""
    try:
        validate_meetings(expert, meetings, rules)
    except InvalidSession:
        return False
    return True

"""Finding an expert: the intent, search results as cards (rating, latest reviews, price, next free time),
filters, More, and the expert card a deep link opens."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core.availability import first_free_slot
from core.booking_service import visible_expert_ids
from core.discovery import SearchFilters, SearchQuery
from core.discovery_service import Match, search_experts
from core.experts import Expert
from core.pricing import session_price
from core.review_service import latest_reviews
from bot.flows.actions import ID_MAX, ascii_int
from bot.flows.base import Context
from bot.flows.time_picker import MARGIN
from bot.replies import Button, rows
from bot.review_notices import clip, quoted
from bot.words import language_name
from bot.flows.booking.draft import NAME, filters_of, on_marketplace, reset

CARD_CLIP = 200  # a review on an expert's card is cut here (the whole text stays stored)
PAGE = 5  # expert cards per message


def ask_intent(ctx: Context) -> None:
    ctx.step("intent")
    ctx.say(ctx.t("What do you need help with? Type a few words, for example “fundraising”, “pricing for B2B SaaS” "
                  "or “term sheet”."))


def search(ctx: Context, page: int = 0, *, fallback_all: bool = False) -> None:
    """Up to PAGE cards, best match first; the filters and More as buttons."""
    t = ctx.t
    intent = str(ctx.data.get("q", ""))
    f = filters_of(ctx)
    visible = visible_expert_ids(ctx.uow, ctx.person)
    filters = SearchFilters(
        pro_bono={"pb": True, "paid": False}.get(str(f.get("kind", ""))),
        language=f.get("lang") or None,
        free_within_days=7 if f.get("week") else None,
        only_expert_ids=visible,
    )
    matches = search_experts(ctx.uow.experts, ctx.clock, SearchQuery(intent, filters, limit=PAGE + 1, offset=page * PAGE))
    lead: list[str] = []
    if not matches and fallback_all and intent:
        lead.append(t("No pro-bono expert matches “{intent}”, so here are all pro-bono experts.", intent=intent))
        intent = ""
        ctx.data["q"] = ""
        matches = search_experts(ctx.uow.experts, ctx.clock, SearchQuery("", filters, limit=PAGE + 1, offset=0))
        page = 0
    matches = [m for m in matches if m.expert.person_id != ctx.person.id]  # nobody books themselves
    ctx.step("results", page=page)
    if not matches:
        _no_results(ctx, intent, f, visible, lead)
        return
    more = len(matches) > PAGE
    matches = matches[:PAGE]
    if intent:
        head = t("Experts for “{intent}”:", intent=intent)
    else:
        head = t("Experts you can book:")
    if _describe_filters(ctx, f):
        head += " " + t("(filters: {filters})", filters=_describe_filters(ctx, f))
    lines = [*lead, head, ""]
    for n, match in enumerate(matches, start=page * PAGE + 1):
        lines.append(card(ctx, match.expert, match.hit.next_free, n))
        lines.append("")
    lines.append(t("Press Book to choose an expert, use a filter, or type other words to search again."))
    book = [ctx.button(t("Book {name}", name=m.expert.name[:60]), NAME, "pick", m.expert.id) for m in matches]
    buttons: list[tuple[Button, ...]] = [tuple(book[i:i + 2]) for i in range(0, len(book), 2)]
    buttons.extend(_filter_buttons(ctx, f, matches))
    if more:
        buttons.append((ctx.step_button(t("More"), NAME, "more", page + 1),))
    ctx.say("\n".join(lines).rstrip(), tuple(buttons))


def _no_results(ctx: Context, intent: str, f: dict[str, Any], visible: frozenset[int] | None, lead: list[str]) -> None:
    t = ctx.t
    if visible is not None and not visible:
        ctx.say(t("Your programme has not assigned any experts to your company yet. Please ask your programme staff."))
        return
    lines = list(lead)
    if intent:
        lines.append(t("No expert matches “{intent}”.", intent=intent) + (
            " " + t("(filters: {filters})", filters=_describe_filters(ctx, f)) if _describe_filters(ctx, f) else ""))
        lines.append(t("Try fewer or other words (for example “fundraising” or “pricing”), or look at the pro-bono "
                       "experts: their 15-minute sessions are free."))
    else:
        lines.append(t("No expert is available with these filters."))
    buttons = []
    if f.get("kind") != "pb" or intent:
        buttons.append(ctx.step_button(t("Show pro-bono experts"), NAME, "flt", "pball"))
    if f:
        buttons.append(ctx.step_button(t("Clear filters"), NAME, "flt", "clear"))
    ctx.say("\n".join(lines), rows(buttons, 2))


def _describe_filters(ctx: Context, f: dict[str, Any]) -> str:
    t = ctx.t
    parts = []
    if f.get("kind") == "pb":
        parts.append(t("pro-bono only"))
    elif f.get("kind") == "paid":
        parts.append(t("paid only"))
    if f.get("week"):
        parts.append(t("free this week"))
    if f.get("lang"):
        parts.append(t("speaks {language}", language=language_name(str(f["lang"]), ctx.t.locale)))
    return ", ".join(parts)


def _filter_buttons(ctx: Context, f: dict[str, Any], matches: list[Match]) -> list[tuple[Button, ...]]:
    t = ctx.t
    row = []
    if f.get("kind") != "pb":
        row.append(ctx.step_button(t("Pro-bono only"), NAME, "flt", "pb"))
    if f.get("kind") != "paid":
        row.append(ctx.step_button(t("Paid only"), NAME, "flt", "paid"))
    if not f.get("week"):
        row.append(ctx.step_button(t("Free this week"), NAME, "flt", "week"))
    if f:
        row.append(ctx.step_button(t("Clear filters"), NAME, "flt", "clear"))
    out: list[tuple[Button, ...]] = [tuple(row[:2]), tuple(row[2:])] if len(row) > 2 else [tuple(row)]
    # A language filter is useful only when it narrows what is shown: languages not every expert here speaks.
    if f.get("lang"):
        out.append((ctx.step_button(t("Any language"), NAME, "flt", "anylang"),))
    else:
        counts: dict[str, int] = {}
        for m in matches:
            for code in dict.fromkeys(m.expert.languages):
                counts[code] = counts.get(code, 0) + 1
        codes = sorted((c for c in counts if counts[c] < len(matches)), key=lambda c: (-counts[c], c))[:3]
        out.append(tuple(
            ctx.step_button(t("Speaks {language}", language=language_name(code, ctx.t.locale))[:75], NAME, "flt",
                            "lang", code)
            for code in codes if code.isalnum() and len(code) <= 8
        ))
    return [r for r in out if r]


def apply_filter(ctx: Context, args: tuple[str, ...]) -> bool:
    """A filter button; False for one that is not (the caller answers it as outdated)."""
    f = dict(filters_of(ctx))
    kind = args[0]
    fallback = False
    if kind == "pb":
        f["kind"] = "pb"
    elif kind == "pball":  # from "out of credits" or "no result": pro-bono, any topic if none matches
        f = {"kind": "pb"}
        fallback = True
    elif kind == "paid":
        f["kind"] = "paid"
    elif kind == "week":
        f["week"] = True
    elif kind == "clear":
        f = {}
    elif kind == "anylang":
        f.pop("lang", None)
    elif kind == "lang" and len(args) == 2 and args[1].isascii() and args[1].isalnum() and len(args[1]) <= 8:
        f["lang"] = args[1].lower()
    else:
        return False
    ctx.data["f"] = f
    search(ctx, fallback_all=fallback)
    return True


def card(ctx: Context, expert: Expert, next_free: datetime | None, n: int | None = None) -> str:
    """Name, headline, topics, rating or "new", price, next free slot in both zones."""
    t = ctx.t
    title = f"{n}. {expert.name}" if n is not None else expert.name
    lines = [f"{title} — {expert.headline}" if expert.headline else title]
    if expert.topics:
        lines.append(t("Topics: {topics}", topics=", ".join(expert.topics)))
    average = expert.rating.average
    if average is None:
        lines.append(t("Rating: new"))
    else:
        lines.append(t.plural("Rating: {stars} ★ ({n} review)", "Rating: {stars} ★ ({n} reviews)", expert.rating.count,
                              stars=average))
    lines.extend(_review_lines(ctx, expert))
    if expert.is_pro_bono:
        lines.append(t("Pro-bono: a free 15-minute session"))
    else:
        price = session_price(expert, [30])
        text = t.plural("{credits} credit per 30 min",
                        "{credits} credits per 30 min",
                        t.credits_n(price.credits_milli), credits=t.credits(price.credits_milli))
        if price.money is not None and on_marketplace(ctx):
            text += " " + t("({money} per 30 min)", money=t.money(price.money))
        lines.append(text)
    if next_free is not None:
        lines.append(t("Next free: {when}", when=t.both(next_free, expert.timezone)))
    else:
        lines.append(t("No free time in the next two weeks."))
    return "\n".join(lines)


def _review_lines(ctx: Context, expert: Expert) -> list[str]:
    """The latest public review texts (never a private note, never a hidden review), each with the expert's
    answer under it."""
    t = ctx.t
    lines = []
    for review in latest_reviews(ctx.uow, expert.id or 0):
        lines.append("   " + quoted(review, CARD_CLIP))
        if review.answer:
            lines.append("      " + t("Answer from {name}: “{text}”", name=expert.name, text=clip(review.answer, CARD_CLIP)))
    return lines


def open_deep_link(ctx: Context, args: str) -> bool:
    """/start e_<handle>: open that expert's card with a Book button. False for anything else."""
    if not args.startswith("e_") or len(args) < 3:
        return False
    key = args[2:]
    expert = ctx.uow.experts.by_handle(key)
    if expert is None and ascii_int(key, 1, ID_MAX) is not None:
        expert = ctx.uow.experts.get(int(key))
    if expert is None or expert.id is None:
        return False
    now = ctx.clock.now()
    schedule = ctx.uow.experts.schedule(expert.id)
    busy = ctx.uow.experts.busy(expert.id, now - MARGIN, now + timedelta(days=15))
    nxt = first_free_slot(schedule, busy, timedelta(minutes=15), now)
    if nxt is not None and nxt > now + timedelta(days=14):
        nxt = None
    reset(ctx, "results")
    buttons = [ctx.button(ctx.t("Book {name}", name=expert.name[:60]), NAME, "pick", expert.id),
               ctx.button(ctx.t("Find other experts"), NAME, "again")]
    ctx.say(card(ctx, expert, nxt), (tuple(buttons),))
    return True

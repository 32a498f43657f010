"""What a session may look like: how many meetings, how long, and the details asked for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.errors import InvalidSession
from core.experts import Expert

PRO_BONO_MINUTES = 15
MIN_MINUTES = 15
MAX_MINUTES = 90
STEP_MINUTES = 15
ALL_LENGTHS: tuple[int, ...] = tuple(range(MIN_MINUTES, MAX_MINUTES + 1, STEP_MINUTES))
TITLE_MAX = 80
OUTCOME_MAX = 500
TEXT_MAX = 3000


@dataclass(frozen=True, slots=True)
class SessionRules:
    """What a programme or deployment allows on top of the marketplace rules."""

    allowed_lengths: tuple[int, ...] = ALL_LENGTHS  # the programme guide narrows this to (30, 60)
    max_meetings: int | None = None  # None: as many as the client likes

    def __post_init__(self) -> None:
        bad = [m for m in self.allowed_lengths if m not in ALL_LENGTHS]
        if bad or not self.allowed_lengths:
            raise ValueError(f"meeting lengths must be among {ALL_LENGTHS}, not {self.allowed_lengths}")
        if self.max_meetings is not None and self.max_meetings < 1:
            raise ValueError("max_meetings must be at least 1")


@dataclass(frozen=True, slots=True)
class MeetingRequest:
    start: datetime
    minutes: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


@dataclass(frozen=True, slots=True)
class SessionDetails:
    title: str
    outcome: str
    context: str = ""
    intro_note: str = ""
    attachments: tuple[str, ...] = field(default=())  # references to stored files


def lengths_for(expert: Expert, rules: SessionRules) -> tuple[int, ...]:
    """The lengths a client may pick for this expert: pro-bono is fixed at 15 minutes."""
    if expert.is_pro_bono:
        return (PRO_BONO_MINUTES,)
    return rules.allowed_lengths


def validate_meetings(expert: Expert, meetings: Sequence[MeetingRequest], rules: SessionRules) -> None:
    """Raise InvalidSession with a stable reason for the first rule a request breaks."""
    if not meetings:
        raise InvalidSession("a session needs at least one meeting", reason="no_meetings")
    if expert.is_pro_bono:
        if len(meetings) != 1:
            raise InvalidSession(
                "a pro-bono session is exactly one meeting", reason="pro_bono_one_meeting"
            )
        if meetings[0].minutes != PRO_BONO_MINUTES:
            raise InvalidSession(
                f"a pro-bono meeting lasts {PRO_BONO_MINUTES} minutes", reason="pro_bono_length"
            )
    else:
        if rules.max_meetings is not None and len(meetings) > rules.max_meetings:
            raise InvalidSession(
                f"at most {rules.max_meetings} meetings in one session",
                reason="too_many_meetings",
                limit=rules.max_meetings,
            )
        for meeting in meetings:
            if meeting.minutes not in rules.allowed_lengths:
                raise InvalidSession(
                    f"{meeting.minutes} minutes is not an allowed length {rules.allowed_lengths}",
                    reason="bad_length",
                    allowed=rules.allowed_lengths,
                )
    ordered = sorted(meetings, key=lambda m: m.start)
    for earlier, later in zip(ordered, ordered[1:]):
        if later.start < earlier.end:
            raise InvalidSession("two meetings of the session overlap", reason="meetings_overlap")


def validate_details(details: SessionDetails) -> SessionDetails:
    """Trim and check the text a client typed; outcome is required (the marketplace asks for one)."""
    title = " ".join(details.title.split())
    outcome = details.outcome.strip()
    if not title:
        raise InvalidSession("a title is required", reason="title_required")
    if len(title) > TITLE_MAX:
        raise InvalidSession(f"keep the title under {TITLE_MAX} characters", reason="title_too_long", limit=TITLE_MAX)
    if not outcome:
        raise InvalidSession("a desired outcome is required", reason="outcome_required")
    if len(outcome) > OUTCOME_MAX:
        raise InvalidSession(
            f"keep the outcome under {OUTCOME_MAX} characters", reason="outcome_too_long", limit=OUTCOME_MAX
        )
    for name, text in (("context", details.context), ("intro_note", details.intro_note)):
        if len(text) > TEXT_MAX:
            raise InvalidSession(f"keep the {name} under {TEXT_MAX} characters", reason=f"{name}_too_long", limit=TEXT_MAX)
    return SessionDetails(title, outcome, details.context.strip(), details.intro_note.strip(), details.attachments)


@dataclass(frozen=True, slots=True)
class Nudge:
    """A best-practice hint from the marketplace guide; flows translate `code`."""

    code: str


def nudges(expert: Expert, meetings: Sequence[MeetingRequest], sessions_with_expert: int) -> tuple[Nudge, ...]:
    """New to this expert? Suggest fewer meetings and shorter ones (marketplace best practice)."""
    if expert.is_pro_bono or sessions_with_expert > 0:
        return ()
    hints: list[Nudge] = []
    if len(meetings) > 1:
        hints.append(Nudge("fewer_meetings"))
    if any(m.minutes > 30 for m in meetings):
        hints.append(Nudge("shorter_meetings"))
    return tuple(hints)

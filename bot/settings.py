"""Process-wide settings read from the environment (every one is listed, with its default, in the README)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from babel.numbers import list_currencies

from core.booking_service import DEFAULT_POLICY
from core.policy import Policy
from core.purchases import STARS, Pack, parse_packs
from core.reminders import parse_offsets
from bot.platforms import PLATFORMS

DEFAULT_PORT = 8080


def enabled_platforms(env: Mapping[str, str] = os.environ) -> list[str]:
    """The chats this deployment runs, so notices can reach people wherever they are."""
    return [p.name for p in PLATFORMS.values() if p.token_variable and env.get(p.token_variable, "").strip()]


DEFAULT_SMTP_FROM = "Headstrt <no-reply@headstrt.local>"


def smtp_url(env: Mapping[str, str] = os.environ) -> str | None:
    """Where to send email (confirmations and changes, with the calendar invite); unset: no email at all.
    smtp://user:pass@host:587?starttls=true, smtps://user:pass@host:465, smtp://127.0.0.1:1025."""
    return env.get("SMTP_URL", "").strip() or None


def smtp_from(env: Mapping[str, str] = os.environ) -> str:
    return env.get("SMTP_FROM", "").strip() or DEFAULT_SMTP_FROM


def port(env: Mapping[str, str] = os.environ) -> int:
    raw = env.get("PORT", "").strip()
    return int(raw) if raw.isdigit() else DEFAULT_PORT


def configure_logging(env: Mapping[str, str] = os.environ) -> None:
    logging.basicConfig(
        level=env.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per Bot API call is noise


def policy(env: Mapping[str, str] = os.environ) -> Policy:
    """The product's rules with REQUEST_EXPIRY (default 48h) applied; ValueError names a bad value."""
    raw = env.get("REQUEST_EXPIRY", "").strip()
    if not raw:
        return DEFAULT_POLICY
    offsets = parse_offsets(raw)
    if len(offsets) != 1:
        raise ValueError(f"REQUEST_EXPIRY takes one duration, e.g. 48h, not {raw!r}")
    return replace(DEFAULT_POLICY, request_expiry=offsets[0])


DEV_SECRET = "headstrt-development-secret"


def secret(env: Mapping[str, str] = os.environ) -> str:
    """HEADSTRT_SECRET: the deployment's secret (meeting room names, the key that seals calendar passwords)."""
    return env.get("HEADSTRT_SECRET", "") or DEV_SECRET


def previous_secrets(env: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    """HEADSTRT_SECRET_PREVIOUS: the secret(s) used before a rotation (space-separated), still able to
    open what they sealed until `headstrt calendar rekey` has sealed it again with the current one."""
    return tuple(env.get("HEADSTRT_SECRET_PREVIOUS", "").split())


def public_url(env: Mapping[str, str] = os.environ) -> str | None:
    """PUBLIC_URL: the web process's public base URL (https://bot.example.com), for links people open
    (dashboard sign-in links start with it). Unset: /dashboard in the chat says the dashboard is not set up."""
    raw = env.get("PUBLIC_URL", "").strip().rstrip("/")
    if not raw:
        return None
    if not raw.startswith(("https://", "http://")):
        raise ValueError(f"PUBLIC_URL must start with https:// (or http://), not {raw!r}")
    return raw


@dataclass(frozen=True, slots=True)
class CalendarSettings:
    refresh: timedelta = timedelta(minutes=10)  # how often a connected calendar is read
    max_bytes: int = 5 * 1024 * 1024  # a feed larger than this is refused
    timeout_seconds: float = 20.0  # for one feed or CalDAV exchange, download included
    concurrency: int = 8  # feeds read at once by the scheduler
    allow_private: bool = False  # calendars on loopback or private addresses (on-premises servers, tests)


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    """A numeric setting: `default` when unset; ValueError (one line, naming it) when not a number in range."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}, not {raw}")
    return value


def calendar_settings(env: Mapping[str, str] = os.environ) -> CalendarSettings:
    """CALENDAR_REFRESH_MINUTES (10), CALENDAR_MAX_BYTES (5 MiB), CALENDAR_TIMEOUT_SECONDS (20),
    CALENDAR_FETCH_CONCURRENCY (8), CALENDAR_ALLOW_PRIVATE_ADDRESSES (unset); ValueError names a bad one."""
    def number(name: str, default: float, low: float, high: float) -> float:
        return _number(env, name, default, low, high)

    default = CalendarSettings()
    return CalendarSettings(
        refresh=timedelta(minutes=number("CALENDAR_REFRESH_MINUTES", 10, 1, 24 * 60)),
        max_bytes=int(number("CALENDAR_MAX_BYTES", default.max_bytes, 1024, 100 * 1024 * 1024)),
        timeout_seconds=number("CALENDAR_TIMEOUT_SECONDS", default.timeout_seconds, 1, 300),
        concurrency=int(number("CALENDAR_FETCH_CONCURRENCY", default.concurrency, 1, 64)),
        allow_private=env.get("CALENDAR_ALLOW_PRIVATE_ADDRESSES", "").strip().lower() in ("1", "true", "yes", "on"),
    )


DEFAULT_MAX_FILE_MB = 20
DEFAULT_FILE_RETENTION_DAYS = 90
FILES_FOLDER = "headstrt-files"


@dataclass(frozen=True, slots=True)
class FileSettings:
    """Files people attach to requests: where their bytes go, the largest taken, how long they are kept."""

    directory: Path
    max_bytes: int = DEFAULT_MAX_FILE_MB * 1024 * 1024
    retention: timedelta = timedelta(days=DEFAULT_FILE_RETENTION_DAYS)


def file_settings(env: Mapping[str, str] = os.environ) -> FileSettings:
    """HEADSTRT_FILES_DIR (default: a headstrt-files folder next to the SQLite database, or ./headstrt-files),
    HEADSTRT_MAX_FILE_MB (20), HEADSTRT_FILE_RETENTION_DAYS (90); ValueError names a bad value."""
    raw_dir = env.get("HEADSTRT_FILES_DIR", "").strip()
    directory = Path(raw_dir) if raw_dir else _default_files_dir(env)

    def whole(name: str, default: int, low: int, high: int) -> int:
        raw = env.get(name, "").strip()
        if not raw:
            return default
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise ValueError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
        return int(raw)

    return FileSettings(
        directory,
        whole("HEADSTRT_MAX_FILE_MB", DEFAULT_MAX_FILE_MB, 1, 1024) * 1024 * 1024,
        timedelta(days=whole("HEADSTRT_FILE_RETENTION_DAYS", DEFAULT_FILE_RETENTION_DAYS, 1, 3650)),
    )


def _default_files_dir(env: Mapping[str, str]) -> Path:
    from sqlalchemy.engine import make_url

    from storage.db import DEFAULT_DATABASE_URL, sqlite_path

    raw = (env.get("DATABASE_URL") or DEFAULT_DATABASE_URL).strip()
    try:
        url = make_url(raw)
    except Exception:  # noqa: BLE001 - a bad DATABASE_URL is reported where the database is opened
        return Path(FILES_FOLDER)
    path = sqlite_path(url) if url.get_backend_name() == "sqlite" else None
    return Path(path).parent / FILES_FOLDER if path else Path(FILES_FOLDER)
DEFAULT_CREDIT_PACKS = "5:2500:USD,10:4500:USD"  # with a payment provider: price in the currency's minor unit
DEFAULT_STAR_PACKS = "5:250:XTR,10:450:XTR"  # Telegram Stars (no provider token): price in whole stars


@dataclass(frozen=True, slots=True)
class PaymentSettings:
    """How individuals buy credits in Telegram: through a payment provider, or in Telegram Stars."""

    provider_token: str  # "" = Telegram Stars
    packs: tuple[Pack, ...]

    @property
    def stars(self) -> bool:
        return not self.provider_token


def payment_settings(env: Mapping[str, str] = os.environ) -> PaymentSettings:
    """TELEGRAM_PAYMENT_PROVIDER_TOKEN (unset: Telegram Stars) and HEADSTRT_CREDIT_PACKS (credits:price:currency,
    comma-separated; default 5:2500:USD,10:4500:USD with a provider, 5:250:XTR,10:450:XTR in Stars);
    ValueError says in one line what is wrong."""
    token = env.get("TELEGRAM_PAYMENT_PROVIDER_TOKEN", "").strip()
    raw = env.get("HEADSTRT_CREDIT_PACKS", "").strip() or (DEFAULT_CREDIT_PACKS if token else DEFAULT_STAR_PACKS)
    try:
        packs = parse_packs(raw)
    except ValueError as exc:
        raise ValueError(f"HEADSTRT_CREDIT_PACKS: {exc}") from None
    known = list_currencies()
    for pack in packs:
        if token and pack.currency == STARS:
            raise ValueError(f"HEADSTRT_CREDIT_PACKS: {pack.spec()!r} is in Telegram Stars (XTR), which take no "
                             "payment provider: unset TELEGRAM_PAYMENT_PROVIDER_TOKEN or price it in money")
        if not token and pack.currency != STARS:
            raise ValueError(f"HEADSTRT_CREDIT_PACKS: {pack.spec()!r} is in {pack.currency}, which needs "
                             "TELEGRAM_PAYMENT_PROVIDER_TOKEN; without one, packs are sold in Telegram Stars (XTR)")
        if pack.currency != STARS and pack.currency not in known:
            raise ValueError(f"HEADSTRT_CREDIT_PACKS: {pack.currency!r} is not a currency code")
    return PaymentSettings(token, packs)


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    embedded: bool = True  # chat processes run stored events themselves (single-process mode)
    concurrency: int = 32  # events in hand at once per process (different people)
    poll_seconds: float = 0.5  # how often a worker looks for events stored by other processes
    heartbeat_seconds: float = 2.0  # a process that misses 5 beats is dead: others take over its leases
    nice: int = 10  # a `headstrt worker`'s niceness: on a shared machine the acks of the receiving process go first


def worker_settings(env: Mapping[str, str] = os.environ) -> WorkerSettings:
    """HEADSTRT_EMBEDDED_WORKER (on; off/0/false/no: `headstrt web`, `telegram` and `slack` only store
    events, and `headstrt worker` processes run them), HEADSTRT_WORKER_CONCURRENCY (32),
    HEADSTRT_WORKER_POLL_SECONDS (0.5), HEADSTRT_HEARTBEAT_SECONDS (2), HEADSTRT_WORKER_NICE (10); ValueError
    names a bad value."""
    def number(name: str, default: float, low: float, high: float) -> float:
        return _number(env, name, default, low, high)

    raw = env.get("HEADSTRT_EMBEDDED_WORKER", "").strip().lower()
    if raw not in ("", "1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError(f"HEADSTRT_EMBEDDED_WORKER must be on or off, not {raw!r}")
    return WorkerSettings(
        embedded=raw not in ("0", "false", "no", "off"),
        concurrency=int(number("HEADSTRT_WORKER_CONCURRENCY", 32, 1, 1000)),
        poll_seconds=number("HEADSTRT_WORKER_POLL_SECONDS", 0.5, 0.01, 60),
        heartbeat_seconds=number("HEADSTRT_HEARTBEAT_SECONDS", 2.0, 0.1, 60),
        nice=int(number("HEADSTRT_WORKER_NICE", 10, 0, 19)),
    )

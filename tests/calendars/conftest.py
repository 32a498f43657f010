"""Calendar test fixtures: a Radicale server for the session, a feed server per test, and settings that let
the code read calendars on 127.0.0.1 (a deployment refuses private addresses by default)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.settings import CalendarSettings
from tests.calendars.servers import FeedServer, Radicale, start_radicale


@pytest.fixture(scope="session")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Radicale]:
    server = start_radicale(tmp_path_factory.mktemp("radicale"))
    yield server
    server.stop()


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def settings() -> CalendarSettings:
    return CalendarSettings(allow_private=True, timeout_seconds=10, concurrency=4)


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADSTRT_SECRET", "test-secret-for-calendars")
    monkeypatch.delenv("HEADSTRT_SECRET_PREVIOUS", raising=False)

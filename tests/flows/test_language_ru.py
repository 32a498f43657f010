"""A person whose language is Russian is answered in Russian: first contact, a whole booking, their settings,
Babel's Russian dates and Russian's three plural forms, while the English expert on the other side keeps English."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.events import Sender, parse_text
from bot.i18n import Translator
from core.lifecycle import BookingStatus
from tests import factories as f


def _russian(uow, handle: str) -> None:  # type: ignore[no-untyped-def]
    with uow() as u:
        person = u.people.by_handle(handle)
        u.people.save(replace(person, locale="ru"))
        u.commit()


def test_a_platform_that_says_russian_gets_a_russian_welcome_and_settings(dispatcher, uow, chat):
    sender = Sender("console", "ivan", "ivan", display_name="Иван", timezone="Europe/Moscow", language="ru-RU")
    handled = dispatcher.handle(parse_text(sender, "first", "привет"))
    text = "\n".join(json.loads(m.payload)["text"] for m in handled.messages)
    assert "Добро пожаловать в Headstrt, Иван!" in text and "Welcome" not in text
    assert "Я буду показывать время в вашем часовом поясе Europe/Moscow." in text
    with uow() as u:
        assert u.people.by_handle("ivan").locale == "ru"
    out = chat("ivan").say("/settings")  # the console says no language: the stored one stays
    assert "Ваши настройки: часовой пояс Europe/Moscow, язык — русский." in out
    assert "[1] Сменить часовой пояс  [2] Сменить язык" in out


def test_a_russian_founder_books_a_pro_bono_expert_in_russian(uow, chat):
    with uow() as u:
        f.person(u, "ivan", tz="Europe/Moscow")
        f.expert(u, "pat", paid=False, headline="Founder", topics=("Fundraising",))  # stays English
        u.commit()
    _russian(uow, "ivan")
    ivan = chat("ivan")
    assert "С чем нужна помощь?" in ivan.say("/book")
    out = ivan.say("fundraising")
    assert "Эксперты по запросу «fundraising»:" in out and "[1] Записаться: Pat" in out
    # Babel's Russian date: weekday and month abbreviated in Russian, the zone always shown
    assert "Ближайшее свободное время: вт 5 мар. 2030, 12:00 (Europe/Moscow) · 09:00 (Europe/London)" in out
    out = ivan.say("Записаться: Pat")
    assert "Встреча с экспертом Pat на 15 мин." in out and "[1] вт 5 мар." in out
    assert "Свободное время на вт 5 мар." in ivan.say("вт 5 мар.")
    assert "Время: вт 5 мар. 2030, 12:00 (Europe/Moscow) · 09:00 (Europe/London)." in ivan.say("12:00")
    ivan.say("Разбор питч-дека")
    ivan.say("Два замечания по деку")
    ivan.say("Пропустить")
    ivan.say("Пропустить")
    out = ivan.say("Готово")
    assert "Пожалуйста, проверьте запрос эксперту Pat:" in out and "«Разбор питч-дека»" in out
    assert "[1] Подтвердить  [2] Изменить время  [3] Отменить" in out
    out = ivan.say("Подтвердить")
    assert "Запрос отправлен эксперту Pat." in out and "Сессия бесплатная." in out
    with uow() as u:
        [booking] = u.bookings.for_person(u.people.by_handle("ivan").id)
        assert booking.status is BookingStatus.REQUESTED and booking.details.title == "Разбор питч-дека"
    out = ivan.say("/sessions")
    assert "«Разбор питч-дека» с экспертом Pat: статус запроса — ждёт ответа эксперта" in out
    out = ivan.as_("pat")  # the expert reads the same request in their own language
    assert "New session request from Ivan" in out and "Новый запрос" not in out


@pytest.mark.parametrize(("n", "hours", "requests"), [
    (1, "1 час", "1 запрос ждёт вашего ответа:"),
    (3, "3 часа", "3 запроса ждут вашего ответа:"),
    (5, "5 часов", "5 запросов ждут вашего ответа:"),
    (21, "21 час", "21 запрос ждёт вашего ответа:"),
])
def test_russian_has_three_plural_forms(n: int, hours: str, requests: str) -> None:
    t = Translator("ru", "Europe/Moscow")
    assert t.plural("{n} hour", "{n} hours", n) == hours
    assert t.plural("{n} request is waiting for your answer:", "{n} requests are waiting for your answer:", n) == requests


def test_a_russian_expert_reads_their_booking_rules_with_plural_forms(uow, chat):
    with uow() as u:
        f.expert(u, "pat", paid=False)  # default rules: 12 hours' notice, 60 days ahead
        u.commit()
    _russian(uow, "pat")
    out = chat("pat").say("/availability")
    assert "пн: 09:00–17:00" in out and "сб: нет приёма" in out
    assert "Правила записи: минимальный срок записи — 12 часов; запись максимум на 60 дней вперёд;" in out

"""Typed times over four languages (and the German and French forms people type anyway) and nine zones, each
with the answer a person would expect, at one fixed clock.

NOW is Monday 1 March 2027, 10:00 UTC: 05:00 in New York, 10:00 in London, 11:00 in Madrid, 13:00 in
Moscow, 15:30 in Kolkata (+05:30), 15:45 in Kathmandu (+05:45), 21:00 in Sydney, 23:00 in Auckland.
The clocks change in 2027: New York 14 Mar (02:00 -> 03:00) and 7 Nov (02:00 -> 01:00); London 28 Mar
(01:00 -> 02:00) and 31 Oct (02:00 -> 01:00); Madrid 28 Mar and 31 Oct (02:00/03:00); Sydney 4 Apr
(03:00 -> 02:00) and 3 Oct (02:00 -> 03:00). 7 Dec 2027 is a Tuesday.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.typed_time import Why, read_typed_time
from tests.typed_time.wants import (
    Want,
    day,
    exact,
    exact_utc,
    gap,
    mismatch,
    moe,
    no,
    past,
    past_day,
    twice,
    vague,
)

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
GRID = timedelta(minutes=15)

NY, LON, SYD = "America/New_York", "Europe/London", "Australia/Sydney"
KOL, KTM, MAD, MSK = "Asia/Kolkata", "Asia/Kathmandu", "Europe/Madrid", "Europe/Moscow"
AKL, MEX, BUE = "Pacific/Auckland", "America/Mexico_City", "America/Argentina/Buenos_Aires"

Row = tuple[str, str, str, "Want | no"] | tuple[str, str, str, "Want | no", str]

TABLE: list[Row] = [
    # ---------------------------------------------------------------- English
    ("en", NY, "tomorrow 3pm", exact("2027-03-02 15:00")),
    ("en", NY, "tomorrow at 3", moe("2027-03-02 03:00", "2027-03-02 15:00")),
    ("en", NY, "tomorrow 15:00", exact("2027-03-02 15:00")),
    ("en", NY, "at 3", moe("2027-03-02 03:00", "2027-03-01 15:00")),  # an hour, not March
    ("en", LON, "15h", exact("2027-03-01 15:00")),  # not 15 hours from now
    ("en", LON, "demain 15h", exact("2027-03-02 15:00")),  # not tomorrow plus 15 hours
    ("en", LON, "tomorrow 25:00", no(Why.NO_SUCH_TIME)),
    ("en", NY, "Mon 7 Dec 17:00", mismatch("2027-12-07", "Mon", "2027-12-06",
                                          exact("2027-12-07 17:00"), exact("2027-12-06 17:00"))),
    ("en", NY, "Sun 7 Nov 1:30am", twice("2027-11-07 01:30", "-04:00", "-05:00")),
    ("en", NY, "Sun 14 Mar 2:30am", gap("2027-03-14 02:30", "2027-03-14 03:00")),
    ("en", NY, "Sun 7 Nov 1:30", moe(twice("2027-11-07 01:30", "-04:00", "-05:00"), "2027-11-07 13:30")),
    ("en", NY, "9:07am tomorrow", exact("2027-03-02 09:07")),  # read as typed; the engine says it is off the grid
    ("en", NY, "Tuesday afternoon", vague("2027-03-02", "afternoon", "14:00")),
    ("en", NY, "next Tuesday 10am", exact("2027-03-02 10:00")),
    ("en", NY, "next monday", day("2027-03-08")),
    ("en", NY, "monday", day("2027-03-01")),
    ("en", NY, "monday 2am", exact("2027-03-08 02:00")),  # today's 02:00 is over: next week's
    ("en", NY, "this friday at noon", exact("2027-03-05 12:00")),
    ("en", NY, "in 2 hours", exact("2027-03-01 07:00")),
    ("en", NY, "in 30 minutes", exact("2027-03-01 05:30")),
    ("en", NY, "in 3 days", day("2027-03-04")),
    ("en", NY, "in a week at 10am", exact("2027-03-08 10:00")),
    ("en", NY, "day after tomorrow 9:30am", exact("2027-03-03 09:30")),
    ("en", NY, "Mar 5 2pm", exact("2027-03-05 14:00")),
    ("en", NY, "5 March 2pm", exact("2027-03-05 14:00")),
    ("en", NY, "March 5th at 2 pm", exact("2027-03-05 14:00")),
    ("en", NY, "2027-03-05 14:00", exact("2027-03-05 14:00")),
    ("en", NY, "2027-03-05T14:00", exact("2027-03-05 14:00")),
    ("en", NY, "3/5 2pm", no(Why.DATE_ORDER)),  # 3 May or March 5? asked, never guessed
    ("en", NY, "13/3 2pm", exact("2027-03-13 14:00")),
    ("en", NY, "midnight", exact("2027-03-02 00:00")),
    ("en", NY, "noon tomorrow", exact("2027-03-02 12:00")),
    ("en", NY, "quarter to 4 tomorrow", moe("2027-03-02 03:45", "2027-03-02 15:45")),
    ("en", NY, "tomorrow 3 in the afternoon", exact("2027-03-02 15:00")),
    ("en", NY, "tonight at 8", exact("2027-03-01 20:00")),
    ("en", NY, "yesterday", past_day("2027-02-28")),
    ("en", NY, "yesterday 3pm", past("2027-02-28 15:00")),
    ("en", NY, "tomorrow 10:75", no(Why.NO_SUCH_TIME)),
    ("en", NY, "31 Feb", no(Why.NO_SUCH_DATE)),
    ("en", NY, "15 am", no(Why.NO_SUCH_TIME)),
    ("en", NY, "3pm", exact("2027-03-01 15:00")),
    ("en", NY, "3", no(Why.BARE_NUMBER)),
    ("en", NY, "3", moe("2027-03-04 03:00", "2027-03-04 15:00"), "2027-03-04"),  # on Thursday's page
    ("en", NY, "17", exact("2027-03-04 17:00"), "2027-03-04"),
    ("en", NY, "17:30", exact("2027-03-04 17:30"), "2027-03-04"),
    ("en", NY, "afternoon", vague("2027-03-04", "afternoon", "14:00"), "2027-03-04"),
    ("en", NY, "tomorrow", day("2027-03-02"), "2027-03-04"),  # a day typed wins over the page
    ("en", NY, "25", no(Why.NO_SUCH_TIME), "2027-03-04"),
    ("en", NY, "foo", no(Why.NOT_UNDERSTOOD)),
    ("en", NY, "tomorow 3pm", no(Why.NOT_UNDERSTOOD)),
    ("en", NY, "the 7th at 3pm", exact("2027-03-07 15:00")),
    ("en", NY, "a week from tomorrow at 3pm", exact("2027-03-09 15:00")),  # dateparser's date, our hour
    ("en", NY, "next week", day("2027-03-08")),
    ("en", NY, "Tue 2 Mar 2027, 10:00 (Europe/London)", exact_utc("2027-03-02T10:00+00:00")),
    ("en", NY, "friday the 6th at 3pm", mismatch("2027-03-06", "Fri", "2027-03-05",
                                                exact("2027-03-06 15:00"), exact("2027-03-05 15:00"))),
    ("en", NY, "tomorrow friday", mismatch("2027-03-02", "Fri", "2027-03-05", day("2027-03-02"), day("2027-03-05"))),
    ("en", NY, "2 hours from now", exact("2027-03-01 07:00")),
    ("en", NY, "in half an hour", exact("2027-03-01 05:30")),
    ("en", NY, "12:30", exact("2027-03-01 12:30")),
    ("en", NY, "00:30", exact("2027-03-02 00:30")),
    ("en", NY, "09:00", exact("2027-03-01 09:00")),  # a 24-hour form: no question
    ("en", NY, "Dec 7 3pm", exact("2027-12-07 15:00")),
    ("en", NY, "7th December 2027 5pm", exact("2027-12-07 17:00")),
    ("en", NY, "at 9 tomorrow morning", exact("2027-03-02 09:00")),
    ("en", NY, "this afternoon", vague("2027-03-01", "afternoon", "14:00")),
    ("en", NY, "3 pm on friday", exact("2027-03-05 15:00")),
    ("en", NY, "2 p.m. tomorrow", exact("2027-03-02 14:00")),
    ("en", NY, "2027-13-01", no(Why.NO_SUCH_DATE)),
    ("en", NY, "9999-12-31 10:00", no(Why.NO_SUCH_DATE)),
    ("en", NY, "tomorrow 3pm " * 10, no(Why.TOO_LONG)),
    ("en", NY, "3pm tomorrow 4pm", no(Why.CONFLICTING)),
    ("en", LON, "Sun 28 Mar 1:30am", gap("2027-03-28 01:30", "2027-03-28 02:00")),
    ("en", LON, "Sun 31 Oct 1:30am", twice("2027-10-31 01:30", "+01:00", "+00:00")),
    ("en", LON, "Fri 5 Mar 2021 10am", past("2021-03-05 10:00")),
    ("en", SYD, "Sun 4 Apr 2:30am", twice("2027-04-04 02:30", "+11:00", "+10:00")),
    ("en", SYD, "Sun 3 Oct 2:30am", gap("2027-10-03 02:30", "2027-10-03 03:00")),
    ("en", SYD, "tomorrow 9am", exact("2027-03-02 09:00")),
    ("en", SYD, "tonight", vague("2027-03-01", "evening", "21:15")),  # 21:00 there: the evening goes on
    ("en", KTM, "tomorrow 9:45am", exact("2027-03-02 09:45")),
    ("en", KTM, "in 2 hours", exact("2027-03-01 17:45")),
    ("en", KTM, "at 4", moe("2027-03-02 04:00", "2027-03-01 16:00")),
    ("en", KOL, "5:30pm", exact("2027-03-01 17:30")),
    ("en", KOL, "noon", exact("2027-03-02 12:00")),
    ("en", AKL, "today 10pm", past("2027-03-01 22:00")),
    # ---------------------------------------------------------------- Spanish
    ("es", MAD, "mañana a las 3", moe("2027-03-02 03:00", "2027-03-02 15:00")),  # the hour is kept
    ("es", MAD, "mañana a las 15:00", exact("2027-03-02 15:00")),
    ("es", MAD, "mañana a las 3 de la tarde", exact("2027-03-02 15:00")),
    ("es", MAD, "manana a las 3 de la tarde", exact("2027-03-02 15:00")),
    ("es", MAD, "mañana por la mañana", vague("2027-03-02", "morning", "09:00")),
    ("es", MAD, "manana por la manana", vague("2027-03-02", "morning", "09:00")),
    ("es", MAD, "mañana por la tarde", vague("2027-03-02", "afternoon", "14:00")),
    ("es", MAD, "el martes a las 10", moe("2027-03-02 10:00", "2027-03-02 22:00")),
    ("es", MAD, "el próximo martes a las 10:30", exact("2027-03-02 10:30")),
    ("es", MAD, "el martes que viene", day("2027-03-02")),
    ("es", MAD, "pasado mañana a las 9", moe("2027-03-03 09:00", "2027-03-03 21:00")),
    ("es", MAD, "hoy a las 18:00", exact("2027-03-01 18:00")),
    ("es", MAD, "esta tarde", vague("2027-03-01", "afternoon", "14:00")),
    ("es", MAD, "esta noche a las 9", exact("2027-03-01 21:00")),
    ("es", MAD, "a las 3 y media", moe("2027-03-02 03:30", "2027-03-01 15:30")),
    ("es", MAD, "a las 4 menos cuarto", moe("2027-03-02 03:45", "2027-03-01 15:45")),
    ("es", MAD, "en 2 horas", exact("2027-03-01 13:00")),
    ("es", MAD, "dentro de 30 minutos", exact("2027-03-01 11:30")),
    ("es", MAD, "en una hora", exact("2027-03-01 12:00")),
    ("es", MAD, "7 de diciembre a las 17:00", exact("2027-12-07 17:00")),
    ("es", MAD, "lun 7 dic 17:00", mismatch("2027-12-07", "Mon", "2027-12-06",
                                           exact("2027-12-07 17:00"), exact("2027-12-06 17:00"))),
    ("es", MAD, "7/12 17:00", exact("2027-12-07 17:00")),  # day first
    ("es", MAD, "7/12/2027 17:00", exact("2027-12-07 17:00")),
    ("es", MAD, "mediodía", exact("2027-03-01 12:00")),
    ("es", MAD, "mañana al mediodía", exact("2027-03-02 12:00")),
    ("es", MAD, "medianoche", exact("2027-03-02 00:00")),
    ("es", MAD, "a las tres", moe("2027-03-02 03:00", "2027-03-01 15:00")),
    ("es", MAD, "mañana a las tres de la tarde", exact("2027-03-02 15:00")),
    ("es", MAD, "15h", exact("2027-03-01 15:00")),
    ("es", MAD, "9:30", exact("2027-03-02 09:30")),  # Spanish clocks run to 24: no question
    ("es", MAD, "el 7 a las 3", moe("2027-03-07 03:00", "2027-03-07 15:00")),
    ("es", MAD, "miércoles", day("2027-03-03")),
    ("es", MAD, "miercoles 10:00", exact("2027-03-03 10:00")),
    ("es", MAD, "sábado 6 de marzo a las 11", moe("2027-03-06 11:00", "2027-03-06 23:00")),
    ("es", MAD, "dom 28 mar 2:30", gap("2027-03-28 02:30", "2027-03-28 03:00")),
    ("es", MAD, "dom 31 oct 2:30", twice("2027-10-31 02:30", "+02:00", "+01:00")),
    ("es", MAD, "3 de la madrugada", exact("2027-03-02 03:00")),
    ("es", MAD, "a las 8 de la noche", exact("2027-03-01 20:00")),
    ("es", MAD, "mar 2 mar 2027, 10:00 (Europe/Madrid)", exact("2027-03-02 10:00")),
    ("es", MAD, "ayer a las 3 de la tarde", past("2027-02-28 15:00")),
    ("es", MAD, "a las 17", exact("2027-03-04 17:00"), "2027-03-04"),
    ("es", MAD, "17", exact("2027-03-04 17:00"), "2027-03-04"),
    ("es", MAD, "la próxima semana a las 15:00", exact("2027-03-08 15:00")),
    ("es", MAD, "tomorrow 3pm", exact("2027-03-02 15:00")),  # English after the person's language
    ("es", MAD, "el martes", day("2027-03-02")),
    ("es", MAD, "a las 25", no(Why.NO_SUCH_TIME)),
    ("es", MAD, "30 de febrero", no(Why.NO_SUCH_DATE)),
    ("es", MAD, "hola", no(Why.NOT_UNDERSTOOD)),
    ("es", MAD, "8", no(Why.BARE_NUMBER)),
    ("es", MEX, "mañana a las 10 de la mañana", exact("2027-03-02 10:00")),
    ("es", BUE, "15 hs", exact("2027-03-01 15:00")),
    ("es", NY, "dom 7 nov 1:30", twice("2027-11-07 01:30", "-04:00", "-05:00")),
    ("es", NY, "dom 14 mar 2:30", gap("2027-03-14 02:30", "2027-03-14 03:00")),
    ("es", SYD, "dom 4 abr 2:30", twice("2027-04-04 02:30", "+11:00", "+10:00")),
    # ---------------------------------------------------------------- Russian
    ("ru", MSK, "завтра в 15:00", exact("2027-03-02 15:00")),
    ("ru", MSK, "завтра в 3", moe("2027-03-02 03:00", "2027-03-02 15:00")),
    ("ru", MSK, "завтра в 3 часа дня", exact("2027-03-02 15:00")),
    ("ru", MSK, "завтра в 9 утра", exact("2027-03-02 09:00")),
    ("ru", MSK, "в 7 вечера", exact("2027-03-01 19:00")),
    ("ru", MSK, "в 2 ночи", exact("2027-03-02 02:00")),
    ("ru", MSK, "в 11 ночи", exact("2027-03-01 23:00")),
    ("ru", MSK, "в 3 часа", moe("2027-03-02 03:00", "2027-03-01 15:00")),
    ("ru", MSK, "послезавтра в 10:30", exact("2027-03-03 10:30")),
    ("ru", MSK, "сегодня вечером", vague("2027-03-01", "evening", "18:00")),
    ("ru", MSK, "завтра утром", vague("2027-03-02", "morning", "09:00")),
    ("ru", MSK, "во вторник в 15:00", exact("2027-03-02 15:00")),
    ("ru", MSK, "в следующий вторник", day("2027-03-02")),
    ("ru", MSK, "в следующую пятницу в 12:00", exact("2027-03-05 12:00")),
    ("ru", MSK, "в эту субботу", day("2027-03-06")),
    ("ru", MSK, "через 2 часа", exact("2027-03-01 15:00")),
    ("ru", MSK, "через час", exact("2027-03-01 14:00")),
    ("ru", MSK, "через полчаса", exact("2027-03-01 13:30")),
    ("ru", MSK, "через 30 минут", exact("2027-03-01 13:30")),
    ("ru", MSK, "через 2 дня в 10:00", exact("2027-03-03 10:00")),
    ("ru", MSK, "7 декабря в 17:00", exact("2027-12-07 17:00")),
    ("ru", MSK, "пн 7 дек. 17:00", mismatch("2027-12-07", "Mon", "2027-12-06",
                                           exact("2027-12-07 17:00"), exact("2027-12-06 17:00"))),
    ("ru", MSK, "7.12 17:00", exact("2027-12-07 17:00")),
    ("ru", MSK, "7.12.2027 в 17:00", exact("2027-12-07 17:00")),
    ("ru", MSK, "в полдень", exact("2027-03-02 12:00")),
    ("ru", MSK, "завтра в полночь", exact("2027-03-02 00:00")),
    ("ru", MSK, "9:30", exact("2027-03-02 09:30")),
    ("ru", MSK, "в 15.30", exact("2027-03-01 15:30")),
    ("ru", MSK, "в среду днём", vague("2027-03-03", "afternoon", "14:00")),
    ("ru", MSK, "в среду днем в 2", exact("2027-03-03 14:00")),
    ("ru", MSK, "7 числа в 15:00", exact("2027-03-07 15:00")),
    ("ru", MSK, "вт 2 мар. 2027, 10:00 (Europe/Moscow)", exact("2027-03-02 10:00")),
    ("ru", MSK, "вчера", past_day("2027-02-28")),
    ("ru", MSK, "в 15:00", exact("2027-03-04 15:00"), "2027-03-04"),
    ("ru", MSK, "7 дек в три часа дня", exact("2027-12-07 15:00")),
    ("ru", MSK, "седьмое декабря в 15:00", exact("2027-12-07 15:00")),  # dateparser's date, our hour
    ("ru", MSK, "завтра в 25:00", no(Why.NO_SUCH_TIME)),
    ("ru", MSK, "привет", no(Why.NOT_UNDERSTOOD)),
    ("ru", NY, "вс 7 нояб. 1:30", twice("2027-11-07 01:30", "-04:00", "-05:00")),
    ("ru", NY, "вс 14 мар. 2:30", gap("2027-03-14 02:30", "2027-03-14 03:00")),
    ("ru", LON, "вс 28 мар. 1:30", gap("2027-03-28 01:30", "2027-03-28 02:00")),
    ("ru", LON, "вс 31 окт. 1:30", twice("2027-10-31 01:30", "+01:00", "+00:00")),
    ("ru", SYD, "вс 3 окт. 2:30", gap("2027-10-03 02:30", "2027-10-03 03:00")),
    ("ru", SYD, "вс 4 апр. 2:30", twice("2027-04-04 02:30", "+11:00", "+10:00")),
    ("ru", KTM, "завтра в 9:45", exact("2027-03-02 09:45")),
    # ---------------------------------------------------------------- Hindi
    ("hi", KOL, "कल 3 बजे", moe("2027-03-02 03:00", "2027-03-02 15:00")),  # the hour is kept
    ("hi", KOL, "कल दोपहर 3 बजे", exact("2027-03-02 15:00")),
    ("hi", KOL, "कल सुबह 9 बजे", exact("2027-03-02 09:00")),
    ("hi", KOL, "आज शाम 6 बजे", exact("2027-03-01 18:00")),
    ("hi", KOL, "रात 9 बजे", exact("2027-03-01 21:00")),
    ("hi", KOL, "रात 2 बजे", exact("2027-03-02 02:00")),
    ("hi", KOL, "परसों 11 बजे", moe("2027-03-03 11:00", "2027-03-03 23:00")),
    ("hi", KOL, "सोमवार को 10 बजे", moe("2027-03-08 10:00", "2027-03-01 22:00")),
    ("hi", KOL, "अगले मंगलवार", day("2027-03-02")),
    ("hi", KOL, "अगले मंगलवार 15:00", exact("2027-03-02 15:00")),
    ("hi", KOL, "मंगलवार दोपहर", vague("2027-03-02", "afternoon", "14:00")),
    ("hi", KOL, "साढ़े 3 बजे", moe("2027-03-02 03:30", "2027-03-02 15:30")),
    ("hi", KOL, "कल साढ़े 4 बजे शाम", exact("2027-03-02 16:30")),
    ("hi", KOL, "सवा 10 बजे", moe("2027-03-02 10:15", "2027-03-01 22:15")),
    ("hi", KOL, "पौने 5 बजे", moe("2027-03-02 04:45", "2027-03-01 16:45")),
    ("hi", KOL, "डेढ़ बजे", moe("2027-03-02 01:30", "2027-03-02 13:30")),
    ("hi", KOL, "ढाई बजे दोपहर", exact("2027-03-02 14:30")),
    ("hi", KOL, "2 घंटे में", exact("2027-03-01 17:30")),
    ("hi", KOL, "30 मिनट में", exact("2027-03-01 16:00")),
    ("hi", KOL, "7 दिसंबर 17:00", exact("2027-12-07 17:00")),
    ("hi", KOL, "7 दिसंबर को 5 बजे शाम", exact("2027-12-07 17:00")),
    ("hi", KOL, "सोम 7 दिस॰ 17:00", mismatch("2027-12-07", "Mon", "2027-12-06",
                                            exact("2027-12-07 17:00"), exact("2027-12-06 17:00"))),
    ("hi", KOL, "7/12 17:00", exact("2027-12-07 17:00")),
    ("hi", KOL, "दोपहर 12 बजे", exact("2027-03-02 12:00")),
    ("hi", KOL, "आधी रात", exact("2027-03-02 00:00")),
    ("hi", KOL, "कल १५:००", exact("2027-03-02 15:00")),  # Devanagari digits
    ("hi", KOL, "३ बजे", moe("2027-03-02 03:00", "2027-03-02 15:00")),
    ("hi", KOL, "kal 3 baje", moe("2027-03-02 03:00", "2027-03-02 15:00")),
    ("hi", KOL, "kal dopahar 3 baje", exact("2027-03-02 15:00")),
    ("hi", KOL, "मंगल 2 मार्च 2027, 10:00 (Asia/Kolkata)", exact("2027-03-02 10:00")),
    ("hi", KOL, "3 बजकर 30 मिनट", moe("2027-03-02 03:30", "2027-03-02 15:30")),
    ("hi", KOL, "7 तारीख को 3 बजे", moe("2027-03-07 03:00", "2027-03-07 15:00")),
    ("hi", KOL, "तीन बजे", moe("2027-03-02 03:00", "2027-03-02 15:00")),
    ("hi", KOL, "कल", day("2027-03-02")),
    ("hi", KOL, "3 बजे", moe("2027-03-04 03:00", "2027-03-04 15:00"), "2027-03-04"),
    ("hi", KOL, "नमस्ते", no(Why.NOT_UNDERSTOOD)),
    ("hi", KOL, "कल 25 बजे", no(Why.NO_SUCH_TIME)),
    ("hi", KOL, "7", no(Why.BARE_NUMBER)),
    ("hi", KOL, "tomorrow 3pm", exact("2027-03-02 15:00")),
    ("hi", KTM, "कल सुबह 9:45 बजे", exact("2027-03-02 09:45")),
    ("hi", KTM, "2 घंटे में", exact("2027-03-01 17:45")),
    ("hi", NY, "रवि 7 नव॰ रात 1:30 बजे", twice("2027-11-07 01:30", "-04:00", "-05:00")),
    ("hi", NY, "रवि 7 नव॰ 1:30", moe(twice("2027-11-07 01:30", "-04:00", "-05:00"), "2027-11-07 13:30")),
    ("hi", NY, "रवि 14 मार्च रात 2:30 बजे", gap("2027-03-14 02:30", "2027-03-14 03:00")),
    ("hi", LON, "रवि 28 मार्च रात 1:30 बजे", gap("2027-03-28 01:30", "2027-03-28 02:00")),
    ("hi", LON, "रवि 31 अक्टू॰ रात 1:30 बजे", twice("2027-10-31 01:30", "+01:00", "+00:00")),
    ("hi", SYD, "रवि 4 अप्रैल रात 2:30 बजे", twice("2027-04-04 02:30", "+11:00", "+10:00")),
    ("hi", SYD, "रवि 3 अक्टू॰ रात 2:30 बजे", gap("2027-10-03 02:30", "2027-10-03 03:00")),
    # ---------------------------------------------------------------- German and French, in any language
    ("en", LON, "um 15 Uhr", exact("2027-03-01 15:00")),
    ("en", LON, "morgen 15 Uhr", exact("2027-03-02 15:00")),  # the hour is kept
    ("es", MAD, "morgen 15 Uhr", exact("2027-03-02 15:00")),
    ("en", LON, "demain à 15h30", exact("2027-03-02 15:30")),
    ("ru", MSK, "demain 15h", exact("2027-03-02 15:00")),
    ("en", LON, "übermorgen um 10 Uhr", exact("2027-03-03 10:00")),  # "10 Uhr" is a 24-hour clock
    ("en", LON, "aujourd'hui 18h", exact("2027-03-01 18:00")),
    ("hi", KOL, "après-demain 9h", exact("2027-03-03 09:00")),
]


def _case_id(row: Row) -> str:
    return f"{row[0]}|{row[1].split('/')[-1]}|{row[2][:40]}" + (f"|on {row[4]}" if len(row) > 4 else "")


@pytest.mark.parametrize("row", TABLE, ids=[_case_id(r) for r in TABLE])
def test_typed_time(row: Row) -> None:
    language, zone, text, want = row[:4]
    page = date.fromisoformat(row[4]) if len(row) > 4 else None
    got = read_typed_time(text, zone=zone, language=language, now=NOW, day=page, grid=GRID)
    if isinstance(want, no):
        assert want.matches(got, language, page is not None), got
    else:
        assert got == want(zone)


def test_the_table_covers_what_the_issue_asks() -> None:
    assert len(TABLE) >= 150
    languages = Counter(r[0] for r in TABLE)
    assert all(languages[lang] >= 30 for lang in ("en", "es", "ru", "hi")), languages
    zones = {r[1] for r in TABLE}
    assert len(zones) >= 6 and {NY, LON, SYD, KOL, KTM} <= zones
    texts = {r[2] for r in TABLE}
    for example in ("mañana a las 3", "morgen 15 Uhr", "कल 3 बजे", "15h", "demain 15h", "tomorrow 25:00", "at 3",
                    "Mon 7 Dec 17:00", "Sun 7 Nov 1:30am", "Sun 14 Mar 2:30am"):
        assert example in texts

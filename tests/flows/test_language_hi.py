"""A person whose language is Hindi is answered in Hindi from first contact to a booking, with dates and
numbers formatted by Babel for Hindi; the expert on the other side still reads their own language."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.events import Sender, parse_text
from core.credits import Source
from core.lifecycle import BookingStatus
from tests import factories as f

# T0 (tests/conftest.py) is Monday 4 March 2030, 06:00 UTC: 11:30 in Kolkata, 14:00 in Singapore.
TUE_0930 = datetime(2030, 3, 5, 9, 30, tzinfo=UTC)  # 15:00 in Kolkata


def test_telegram_language_code_hi_gives_a_hindi_welcome_and_settings(uow, chat, dispatcher):
    sender = Sender("console", "ravi", "ravi", display_name="Ravi", timezone="Asia/Kolkata", language="hi-IN")
    handled = dispatcher.handle(parse_text(sender, "first", "hello"))
    text = "\n".join(json.loads(m.payload)["text"] for m in handled.messages)  # the console's JSON replies
    assert "Headstrt में आपका स्वागत है, Ravi!" in text
    # the platform said the language: nobody is asked for it again
    assert "मैं कौन-सी भाषा इस्तेमाल करूँ?" not in text and "Welcome" not in text and "/book इस्तेमाल करें" in text
    with uow() as u:
        person = u.people.by_handle("ravi")
        assert person is not None and person.locale == "hi"
    ravi = chat("ravi")
    assert "आपकी सेटिंग: टाइमज़ोन Asia/Kolkata, भाषा हिन्दी।" in ravi.say("/settings")
    assert "आप किस टाइमज़ोन में हैं?" in ravi.say("टाइमज़ोन बदलें")  # the Hindi label presses the button
    out = ravi.say("Asia/Singapore")
    assert "टाइमज़ोन Asia/Singapore सेट हो गया। वहाँ अभी सोम 4 मार्च 2030, 14:00 (Asia/Singapore) है।" in out
    assert "/book [विषय] — एक्सपर्ट ढूँढें" in ravi.say("/help") and "Here is what I can do" not in ravi.text


def test_a_hindi_founder_books_in_hindi_and_the_expert_reads_english(uow, chat):
    with uow() as u:
        programme = f.programme(u, lengths=(30, 60))
        acme = u.people.add_company("Acme", programme.id)
        ana = f.person(u, "ana", tz="Asia/Kolkata", company_id=acme.id)
        ana.locale = "hi"
        u.people.save(ana)
        f.credits(u, amount="2", source=Source.PROGRAMME, company_id=acme.id)
        f.expert(u, "eve", headline="Seed investor", topics=("Fundraising",))
        u.commit()
    client = chat("ana")
    out = client.say("/book fundraising")
    assert "“fundraising” के लिए एक्सपर्ट:" in out and "0.5 क्रेडिट प्रति 30 मिनट" in out
    assert "अगला खाली समय: मंगल 5 मार्च 2030, 14:30 (Asia/Kolkata) · 09:00 (Europe/London)" in out
    assert "Eve के साथ हर मीटिंग कितनी लंबी हो?" in client.say("Eve को बुक करें")
    assert "30 मिनट की कितनी मीटिंग? हर मीटिंग 0.5 क्रेडिट की है।" in client.say("30 मिनट · 0.5 क्रेडिट")
    out = client.say("1")
    assert "कोई दिन चुनें (आपके टाइमज़ोन Asia/Kolkata में)" in out and "[1] मंगल 5 मार्च" in out
    # the example the Hindi prompt gives is one this flow reads
    assert "क्या आपका मतलब मंगल 5 मार्च 2030, 15:00 (Asia/Kolkata) · 09:30 (Europe/London) है?" in client.say("कल 15:00")
    assert "समय: मंगल 5 मार्च 2030, 15:00 (Asia/Kolkata) · 09:30 (Europe/London)।" in client.say("हाँ")
    client.say("सीड राउंड की योजना")
    client.say("अगले महीने से शुरू करने लायक सीड राउंड प्लान")
    client.say("छोड़ें")
    client.say("छोड़ें")
    out = client.say("हो गया")
    assert "कृपया Eve को भेजी जाने वाली अपनी रिक्वेस्ट जाँच लें:" in out and "कीमत: 0.5 क्रेडिट" in out
    out = client.say("कन्फ़र्म करें")
    assert "रिक्वेस्ट Eve को भेज दी।" in out
    assert "जवाब आने तक 0.5 क्रेडिट होल्ड पर हैं। 1.5 क्रेडिट अभी भी उपलब्ध हैं।" in out
    with uow() as u:
        [booking] = u.bookings.for_person(ana.id)
    assert booking.status is BookingStatus.REQUESTED and [m.start for m in booking.meetings] == [TUE_0930]
    out = client.as_("eve")  # the expert's language is English: the same request reaches them in English
    assert "New session request from Ana." in out and "“सीड राउंड की योजना”" in out
    assert "Tue 5 Mar 2030, 09:30 (Europe/London) · 15:00 (Asia/Kolkata), 30 min" in out

"""A person whose language is Spanish is answered in Spanish, all the way through a booking: sentences from the
catalog, dates by Babel in Spanish, a time typed in Spanish read back; the English-speaking expert still reads
English. First contact takes the language from the platform, and /settings switches it."""

from __future__ import annotations

import json

from bot.events import Sender, parse_text
from core.lifecycle import BookingStatus
from core.model import Person
from tests.flows.test_book import TUE_0930, bookings_of, credits_of, world


def test_a_spanish_founder_books_in_spanish_and_the_english_expert_reads_english(uow, chat):
    w = world(uow)
    with uow() as u:
        lucia = u.people.add(Person(None, "lucia", "Lucía", timezone="Europe/Madrid", company_id=w.company, locale="es"))
        u.commit()
    lu = chat("lucia")
    out = lu.say("/book fundraising")
    assert "Expertos para “fundraising”:" in out and "Calificación: nuevo" in out
    assert "0,5 créditos por 30 min" in out  # a Spanish decimal comma, from Babel
    assert "Próximo libre: mar 5 mar 2030, 10:00 (Europe/Madrid) · 09:00 (Europe/London)" in out
    assert "¿Cuánto debe durar cada reunión con Eve?" in lu.say("Reservar con Eve")
    assert "¿Cuántas reuniones de 30 min? Cada una cuesta 0,5 créditos." in lu.say("30 min · 0,5 créditos")
    assert "Elige un día (en tu zona horaria, Europe/Madrid)" in lu.say("1") and "[1] mar 5 mar" in lu.text
    out = lu.say("mañana 10:30")  # typed in Spanish, echoed in Spanish
    assert "¿Te refieres a mar 5 mar 2030, 10:30 (Europe/Madrid) · 09:30 (Europe/London)?" in out
    lu.say("Sí")
    assert "Ponle a la sesión un título corto" in lu.text
    assert "¿Qué resultado quieres obtener?" in lu.say("Plan de ronda semilla")
    lu.say("Un plan para la ronda semilla")
    lu.say("Omitir")
    lu.say("Omitir")
    out = lu.say("Listo")
    assert "Revisa tu solicitud a Eve:" in out and "Precio: 0,5 créditos" in out
    assert "[1] Confirmar  [2] Cambiar hora  [3] Cancelar" in out
    out = lu.say("Confirmar")
    assert "Solicitud enviada a Eve. Te avisaré en cuanto responda" in out
    assert "0,5 créditos quedan retenidos hasta que haya respuesta. Aún tienes 1,5 créditos disponibles." in out
    [booking] = bookings_of(uow, lucia.id)
    assert booking.status is BookingStatus.REQUESTED and [m.start for m in booking.meetings] == [TUE_0930]
    assert credits_of(uow, lucia.id) == (1500, 500)
    assert "“Plan de ronda semilla” con Eve: solicitud esperando al experto" in lu.say("/sessions")
    out = lu.as_("eve")  # the expert's language is English: the same request reaches her in English
    assert "New session request from Lucía." in out and "Tue 5 Mar 2030, 09:30 (Europe/London)" in out
    assert "solicitud" not in out


def test_first_contact_takes_the_platforms_language_and_settings_switch_it(dispatcher, chat):
    sender = Sender("console", "marta", "marta", display_name="Marta", timezone="America/Mexico_City",
                    language="es-MX")
    handled = dispatcher.handle(parse_text(sender, "first", "hola"))
    out = "\n".join(json.loads(m.payload)["text"] for m in handled.messages)
    assert "¡Te damos la bienvenida a Headstrt, Marta!" in out
    assert "Te mostraré las horas en America/Mexico_City, tu zona horaria." in out
    # the platform said the language: nobody is asked for it again
    assert "¿Qué idioma prefieres?" not in out and "Welcome" not in out and "Listo. Escribe en qué necesitas ayuda" in out
    marta = chat("marta")
    assert "Tu configuración: zona horaria America/Mexico_City, idioma español." in marta.say("/settings")
    marta.say("Cambiar idioma")
    assert "Language set to English." in marta.say("English")
    assert "Your settings: timezone America/Mexico_City, language English." in marta.say("/settings")

"""The experts import never surprises, on both databases: a handle that belongs to someone who is not an
expert is refused unless linking is asked for (and then who they are stays theirs), numbers out of range
are line errors, control characters in cells are dropped, and a large file goes in batches, all or
nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from core.discovery import terms
from core.expert_import import parse_experts_csv
from core.import_service import import_experts
from core.model import Person
from storage.models import ExpertRow, ExpertTermRow, PersonRow, WeeklyWindowRow
from tests import factories as f

HEADER = "name,handle,email,telegram_user_id,slack_user_id,timezone,topics,bio,pro_bono,rate,availability\n"


def run(uow, text: str, **options):  # type: ignore[no-untyped-def]
    parsed = parse_experts_csv(text)
    assert parsed.ok, [str(e) for e in parsed.errors]
    with uow() as u:
        outcome = import_experts(u, parsed.records, **options)
        if not outcome.errors:
            u.commit()
    return outcome


def count(uow, table) -> int:  # type: ignore[no-untyped-def]
    with uow() as u:
        return int(u.session.scalar(select(func.count()).select_from(table)) or 0)


def founder(uow) -> Person:  # type: ignore[no-untyped-def]
    with uow() as u:
        ana = u.people.add(Person(None, "ana", "Ana Gomez", timezone="Asia/Kolkata", email="ana@acme.io",
                                  telegram_user_id=4242))
        u.commit()
        return ana


def test_a_row_cannot_take_over_someone_who_is_not_an_expert(uow):
    founder(uow)
    outcome = run(uow, HEADER + "Mallory,ana,evil@example.com,,,UTC,Pricing,,yes,,Mon 09:00-10:00\n"
                               "New One,newbie,,,,UTC,Pricing,,yes,,Mon 09:00-10:00\n")
    assert [str(e) for e in outcome.errors] == [
        "line 2, handle: @ana is Ana Gomez, who is already here and is not an expert; to make them one, "
        "import with --link-existing (their name, email and chat accounts are kept)"]
    assert count(uow, ExpertRow) == 0 and count(uow, PersonRow) == 1  # all or nothing: newbie is not there
    with uow() as u:
        ana = u.people.by_handle("ana")
        assert ana is not None and (ana.name, ana.email) == ("Ana Gomez", "ana@acme.io")


def test_linking_on_purpose_keeps_who_they_are(uow):
    ana = founder(uow)
    outcome = run(uow, HEADER + "Ana G,ana,other@example.com,,U0ANA12345,Europe/Lisbon,Pricing,,yes,,Mon 09:00-10:00\n",
                  link_existing=True)
    assert outcome.errors == () and (outcome.created, outcome.updated, outcome.linked) == (0, 0, 1)
    with uow() as u:
        person = u.people.by_handle("ana")
        expert = u.experts.by_handle("ana")
        assert person is not None and expert is not None and expert.person_id == ana.id
        assert (person.name, person.email, person.telegram_user_id) == ("Ana Gomez", "ana@acme.io", 4242)
        assert person.slack_user_id == "U0ANA12345"  # what she lacked is filled in
        assert person.timezone == "Europe/Lisbon" and expert.topics == ("Pricing",)  # the hours' zone
    # once an expert, the sheet updates them like any expert
    assert run(uow, HEADER + "Ana Gomez-Lee,ana,,,,Europe/Lisbon,Hiring,,yes,,Tue 09:00-10:00\n").updated == 1


def test_linking_refuses_a_different_chat_account(uow):
    founder(uow)
    outcome = run(uow, HEADER + "Ana,ana,,999,,UTC,Pricing,,yes,,Mon 09:00-10:00\n", link_existing=True)
    assert [str(e) for e in outcome.errors] == [
        "line 2, telegram_user_id: @ana already uses 4242, not 999: leave it empty or fix it"]
    assert count(uow, ExpertRow) == 0


def test_numbers_out_of_range_are_line_errors():
    parsed = parse_experts_csv(
        HEADER
        + "A,aaa,,,,UTC,,,no,USD 99999999999999999999,Mon 09:00-10:00\n"
        + "B,bbb,,99999999999999999999,,UTC,,,yes,,Mon 09:00-10:00\n"
        + "C,ccc,,,,UTC,,,no,99999999999999999999999999999999x,Mon 09:00-10:00\n"
        + "D,ddd,,,,UTC,,,no,1.0000000000000000000000000000000001x,Mon 09:00-10:00\n"
        + "E,eee,,,,UTC,,,no,\u20ac 1000000000.01,Mon 09:00-10:00\n")
    assert [str(e) for e in parsed.errors] == [
        'line 2, rate: "USD 99999999999999999999": an hourly rate can be at most USD 1,000,000,000',
        'line 3, telegram_user_id: "99999999999999999999" is not a Telegram user ID: it is too large '
        "(Telegram's are at most 64-bit)",
        'line 4, rate: "99999999999999999999999999999999x": a credit multiplier can be at most 10x; for an '
        "hourly rate add the currency, e.g. USD 99999999999999999999999999999999",
        'line 5, rate: "1.0000000000000000000000000000000001x": a credit multiplier can have at most 2 decimals',
        'line 6, rate: "\u20ac 1000000000.01": an hourly rate can be at most EUR 1,000,000,000',
    ]


def test_the_largest_rate_allowed_is_stored(uow):
    run(uow, HEADER + "Rich,rich,,9223372036854775807,,UTC,,,no,\"1.5x; USD 1,000,000,000\",Mon 09:00-10:00\n")
    with uow() as u:
        expert = u.experts.by_handle("rich")
        assert expert is not None and expert.hourly_rate is not None and expert.hourly_rate.minor == 100_000_000_000
        assert u.people.by_handle("rich").telegram_user_id == 2**63 - 1  # type: ignore[union-attr]


def test_control_characters_in_cells_are_dropped(uow):
    run(uow, HEADER + "Ana\x00 Lee\x1b[31m,nul,,,,UTC,\"Pri\x00cing\",\"line one\r\nline\x07 two\",yes,,Mon 09:00-10:00\n")
    with uow() as u:
        expert = u.experts.by_handle("nul")
        assert expert is not None
        assert expert.name == "Ana Lee[31m" and expert.topics == ("Pricing",) and expert.bio == "line one\nline two"


def test_a_large_file_goes_in_batches_and_a_late_error_imports_nothing(uow):
    with uow() as u:
        f.expert(u, "e00007", topics=("Old",))  # an existing expert, updated in a later batch
        u.commit()
    rows = [f"Expert {n},e{n:05},,{7_000_000_000 + n},,Europe/Berlin,\"Pricing, Topic {n % 50}\",Bio {n},no,1.5x,"
            f"Mon-Fri 09:00-12:00\n" for n in range(2_500)]
    done: list[int] = []
    outcome = run(uow, HEADER + "".join(rows), batch=1000, progress=done.append)
    assert (outcome.created, outcome.updated, outcome.errors) == (2_499, 1, ())
    assert done == [1000, 2000, 2500]
    assert count(uow, ExpertRow) == 2_500 and count(uow, WeeklyWindowRow) == 2_500 * 5
    with uow() as u:
        assert u.experts.by_handle("e00007").topics == ("Pricing", "Topic 7")  # type: ignore[union-attr]
        assert u.session.scalar(select(func.count()).select_from(ExpertTermRow)
                                .where(ExpertTermRow.term == terms("pricing")[0])) == 2_500
    # the same file with a row taking over someone in the last batch: every batch is rolled back
    with uow() as u:
        f.person(u, "taken")
        u.commit()
    late = rows[:-1] + ["Taken,taken,,,,UTC,Pricing,,yes,,Mon 09:00-10:00\n"]
    changed = [r.replace("Bio ", "New bio ") for r in late]
    outcome = run(uow, HEADER + "".join(changed), batch=1000)
    assert [e.line for e in outcome.errors] == [2_501]
    with uow() as u:
        assert u.experts.by_handle("e00001").bio == "Bio 1"  # type: ignore[union-attr]


def test_every_control_character_in_a_name_is_dropped_on_both_databases(uow):
    controls = "".join(chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)] if c != 0x0D)
    run(uow, HEADER + f"\"Ana{controls} Lee\",ctl,,,,UTC,Pricing,,yes,,Mon 09:00-10:00\n")
    with uow() as u:
        assert u.people.by_handle("ctl").name == "Ana Lee"  # type: ignore[union-attr]


def test_too_many_languages_is_a_line_error():
    codes = ", ".join(f"{a}{b}x" for a in "abcde" for b in "abcde")
    parsed = parse_experts_csv(f"name,handle,timezone,languages\nA,aaa,UTC,\"{codes}\"\n")
    assert [str(e) for e in parsed.errors] == ["line 2, languages: 25 languages; list at most 20"]


def test_an_expert_read_before_a_change_in_the_same_transaction_reads_the_change(uow):
    from dataclasses import replace

    with uow() as u:
        eve = f.expert(u, "eve", headline="Old")
        assert u.experts.get(eve.id).headline == "Old"  # type: ignore[union-attr]  # now in the session
        u.experts.put(replace(eve, headline="New", topics=("Hiring",)), u.experts.schedule(eve.id))
        again = u.experts.get(eve.id)
        assert again is not None and again.headline == "New" and again.topics == ("Hiring",)
        u.commit()

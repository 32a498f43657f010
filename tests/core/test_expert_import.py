"""Expert CSV import: availability grammar, rates, and whole-file validation with line numbers."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.amounts import Money
from core.expert_import import (
    ExpertRecord,
    ImportResult,
    RowError,
    parse_experts_csv,
    parse_rate,
    parse_weekly,
)
from core.experts import ExpertKind, MeetingProvider
from core.schedule import WEEKDAYS, WeeklyWindow, format_minute

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "experts.csv"
HEADER = "name,handle,timezone,pro_bono,rate,availability"


def labels(windows: tuple[WeeklyWindow, ...]) -> list[str]:
    return [window.label() for window in windows]


def value_error(parse: Callable[[str], object], text: str) -> str:
    with pytest.raises(ValueError) as info:
        parse(text)
    return str(info.value)


def csv_errors(text: str) -> list[str]:
    result = parse_experts_csv(text)
    assert not result.ok
    assert result.records == ()
    return [str(error) for error in result.errors]


def one_record(text: str) -> ExpertRecord:
    result = parse_experts_csv(text)
    assert result.ok, [str(error) for error in result.errors]
    assert len(result.records) == 1
    return result.records[0]


# ------------------------------------------------------------------ parse_weekly


class TestParseWeekly:
    def test_readme_example(self) -> None:
        assert labels(parse_weekly("Mon-Fri 09:00-12:00; Wed 14:00-18:00")) == [
            "Mon 09:00-12:00",
            "Tue 09:00-12:00",
            "Wed 09:00-12:00",
            "Wed 14:00-18:00",
            "Thu 09:00-12:00",
            "Fri 09:00-12:00",
        ]

    def test_windows_are_minutes_on_weekday_numbers(self) -> None:
        assert parse_weekly("Tue 9:30-24:00") == (WeeklyWindow(1, 570, 1440),)

    @pytest.mark.parametrize("spec", ["", "   ", ";", " ; ; "])
    def test_empty_spec_means_no_availability(self, spec: str) -> None:
        assert parse_weekly(spec) == ()

    def test_wrapping_range_goes_over_the_weekend(self) -> None:
        assert [w.weekday for w in parse_weekly("Fri-Mon 10:00-11:00")] == [0, 4, 5, 6]

    def test_wrapping_range_sun_to_tue(self) -> None:
        assert labels(parse_weekly("Sun-Tue 10:00-11:00")) == ["Mon 10:00-11:00", "Tue 10:00-11:00", "Sun 10:00-11:00"]

    def test_range_of_one_day(self) -> None:
        assert labels(parse_weekly("Wed-Wed 10:00-11:00")) == ["Wed 10:00-11:00"]

    def test_day_names_full_short_and_any_case(self) -> None:
        spec = "MONDAY 09:00-10:00; tuesday 09:00-10:00; wEd 09:00-10:00; Sunday-sun 09:00-10:00"
        assert labels(parse_weekly(spec)) == [
            "Mon 09:00-10:00",
            "Tue 09:00-10:00",
            "Wed 09:00-10:00",
            "Sun 09:00-10:00",
        ]

    def test_comma_list_mixed_with_range(self) -> None:
        assert [w.weekday for w in parse_weekly("Mon-Wed,Fri 09:00-10:00")] == [0, 1, 2, 4]
        assert [w.weekday for w in parse_weekly("Mon,Wed,Fri 09:00-10:00")] == [0, 2, 4]

    def test_spaces_around_commas_and_dashes_and_typographic_dashes(self) -> None:
        expected = labels(parse_weekly("Mon-Wed,Fri 09:00-10:00"))
        assert labels(parse_weekly("Mon - Wed , Fri   09:00 - 10:00")) == expected
        assert labels(parse_weekly("Mon\u2013Wed, Fri 09:00\u201410:00")) == expected

    def test_several_ranges_separated_by_commas_or_spaces(self) -> None:
        assert labels(parse_weekly("Mon 09:00-10:00, 11:00-12:00 14:00-15:00")) == [
            "Mon 09:00-10:00",
            "Mon 11:00-12:00",
            "Mon 14:00-15:00",
        ]

    def test_single_digit_hours(self) -> None:
        assert labels(parse_weekly("Mon 9:00-9:45")) == ["Mon 09:00-09:45"]

    def test_whole_day_with_24_00(self) -> None:
        assert labels(parse_weekly("Sat 00:00-24:00")) == ["Sat 00:00-24:00"]

    def test_overlapping_and_adjacent_windows_merge(self) -> None:
        assert labels(parse_weekly("Mon 09:00-11:00, 10:00-12:00; Mon 12:00-13:00; Mon 15:00-16:00")) == [
            "Mon 09:00-13:00",
            "Mon 15:00-16:00",
        ]

    def test_contained_window_is_absorbed(self) -> None:
        assert labels(parse_weekly("Tue 08:00-18:00; Tue 10:00-11:00")) == ["Tue 08:00-18:00"]

    def test_duplicates_removed_across_clauses_and_day_lists(self) -> None:
        assert labels(parse_weekly("Mon-Fri 09:00-10:00; Mon,Mon 09:00-10:00; Wed 09:00-10:00")) == [
            f"{day} 09:00-10:00" for day in WEEKDAYS[:5]
        ]

    def test_windows_on_different_days_do_not_merge(self) -> None:
        assert labels(parse_weekly("Mon 22:00-24:00; Tue 00:00-02:00")) == ["Mon 22:00-24:00", "Tue 00:00-02:00"]

    def test_result_is_sorted(self) -> None:
        assert labels(parse_weekly("Sun 10:00-11:00; Mon 15:00-16:00; Mon 08:00-09:00")) == [
            "Mon 08:00-09:00",
            "Mon 15:00-16:00",
            "Sun 10:00-11:00",
        ]

    def test_trailing_colon_after_days_is_tolerated(self) -> None:
        assert labels(parse_weekly("Mon: 09:00-10:00")) == ["Mon 09:00-10:00"]

    # --- errors quote the piece to fix

    def test_unknown_day(self) -> None:
        message = value_error(parse_weekly, "Mnday 09:00-12:00")
        assert message.startswith('unknown day "Mnday" in "Mnday 09:00-12:00"')
        assert "Monday" in message  # suggestion

    def test_unknown_day_without_suggestion(self) -> None:
        message = value_error(parse_weekly, "Mon-Fri 09:00-12:00; Someday 10:00-11:00")
        assert message == 'unknown day "Someday" in "Someday 10:00-11:00" (use Mon, Tue, ... or Monday, Tuesday, ...)'

    @pytest.mark.parametrize(
        ("typo", "suggestion"),
        [("Tues", "Tuesday"), ("Thurs", "Thursday"), ("Weds", "Wednesday"), ("Sundy", "Sunday"), ("Thr", "Thursday")],
    )
    def test_unknown_day_suggestions(self, typo: str, suggestion: str) -> None:
        assert value_error(parse_weekly, f"{typo} 10:00-11:00").endswith(f"(did you mean {suggestion}?)")

    @pytest.mark.parametrize(("word", "days"), [("Weekdays", "Mon-Fri"), ("weekend", "Sat-Sun"), ("Daily", "Mon-Sun")])
    def test_day_group_words_get_a_concrete_hint(self, word: str, days: str) -> None:
        assert value_error(parse_weekly, f"{word} 10:00-11:00").endswith(f"(write {days})")

    def test_unknown_day_inside_a_range(self) -> None:
        assert value_error(parse_weekly, "Mon-Fro 09:00-12:00").startswith('unknown day "Fro" in "Mon-Fro 09:00-12:00"')

    def test_backwards_time_range(self) -> None:
        message = value_error(parse_weekly, "Mon 12:00-09:00")
        assert message.startswith('"12:00-09:00": a time range must start before it ends')
        assert "midnight" in message

    def test_empty_time_range(self) -> None:
        assert value_error(parse_weekly, "Mon 10:00-10:00") == '"10:00-10:00": a time range must start before it ends'

    @pytest.mark.parametrize("bad", ["25:00", "24:30", "12:60", "9", "9am", "09.00", "123:00", "12:5"])
    def test_not_a_time(self, bad: str) -> None:
        assert value_error(parse_weekly, f"Mon {bad}-23:00") == f'"{bad}" is not a time (use HH:MM, 24-hour)'

    def test_not_a_time_at_the_end(self) -> None:
        assert value_error(parse_weekly, "Mon 09:00-25:00") == '"25:00" is not a time (use HH:MM, 24-hour)'

    def test_24_00_cannot_start(self) -> None:
        assert value_error(parse_weekly, "Mon 24:00-24:00").startswith('"24:00" can only end a time range')

    def test_missing_times(self) -> None:
        assert value_error(parse_weekly, "Mon; Tue 09:00-10:00").startswith('no time range in "Mon"')

    def test_missing_day(self) -> None:
        assert value_error(parse_weekly, "09:00-10:00").startswith('no day in "09:00-10:00"')

    def test_time_without_range(self) -> None:
        assert value_error(parse_weekly, "Mon 09:00").startswith('"09:00" is not a time range')

    def test_three_part_range(self) -> None:
        assert value_error(parse_weekly, "Mon 09:00-10:00-11:00").startswith('"09:00-10:00-11:00" is not a time range')

    def test_missing_semicolon_between_days(self) -> None:
        message = value_error(parse_weekly, "Mon 09:00-10:00 Tue 10:00-11:00")
        assert message.startswith('"Tue" in "Mon 09:00-10:00 Tue 10:00-11:00": put a ";" before each new day')

    def test_empty_item_in_day_list(self) -> None:
        message = value_error(parse_weekly, "Mon,,Wed 09:00-10:00")
        assert message == 'a day is missing between commas in "Mon,,Wed 09:00-10:00"'

    def test_three_day_range(self) -> None:
        message = value_error(parse_weekly, "Mon-Wed-Fri 09:00-10:00")
        assert message.startswith('"Mon-Wed-Fri" in "Mon-Wed-Fri 09:00-10:00" is not a day range')


_RANGES = st.tuples(st.integers(0, 6), st.integers(0, 1439), st.integers(1, 1440)).filter(lambda t: t[1] < t[2])


@given(st.lists(_RANGES, max_size=12))
def test_parse_weekly_merges_to_the_same_minutes(ranges: list[tuple[int, int, int]]) -> None:
    """Whatever the input order and overlaps, output covers exactly the input minutes, sorted and disjoint."""
    spec = "; ".join(f"{WEEKDAYS[day]} {format_minute(start)}-{format_minute(end)}" for day, start, end in ranges)
    windows = parse_weekly(spec)
    assert list(windows) == sorted(windows)
    for earlier, later in zip(windows, windows[1:]):
        if earlier.weekday == later.weekday:
            assert earlier.end_minute < later.start_minute  # not even touching
    covered = {(w.weekday, m) for w in windows for m in range(w.start_minute, w.end_minute)}
    assert covered == {(day, m) for day, start, end in ranges for m in range(start, end)}


# -------------------------------------------------------------------- parse_rate


class TestParseRate:
    @pytest.mark.parametrize("text", ["1.5x", "x1.5", "1.5", "1.5 x", "X1.5", "1.50x", "1.5\u00d7"])
    def test_multiplier(self, text: str) -> None:
        multiplier, money = parse_rate(text)
        assert multiplier == Decimal("1.5")
        assert isinstance(multiplier, Decimal)
        assert money is None

    @pytest.mark.parametrize(
        ("text", "money"),
        [
            ("USD 120", Money(12000, "USD")),
            ("120 USD", Money(12000, "USD")),
            ("usd120", Money(12000, "USD")),
            ("$120", Money(12000, "USD")),
            ("$ 120", Money(12000, "USD")),
            ("\u20ac90", Money(9000, "EUR")),
            ("90\u20ac", Money(9000, "EUR")),
            ("\u00a380", Money(8000, "GBP")),
            ("\u20b92500", Money(250000, "INR")),
            ("EUR 150.50", Money(15050, "EUR")),
            ("EUR 150.5", Money(15050, "EUR")),
            ("USD 1,200", Money(120000, "USD")),
            ("R$ 300", Money(30000, "BRL")),
            ("S$180", Money(18000, "SGD")),
            ("A$250", Money(25000, "AUD")),
            ("\u20a650000", Money(5000000, "NGN")),
        ],
    )
    def test_money(self, text: str, money: Money) -> None:
        assert parse_rate(text) == (None, money)

    def test_both(self) -> None:
        assert parse_rate("1.5x; USD 120") == (Decimal("1.5"), Money(12000, "USD"))
        assert parse_rate("  \u00a380 ;x2 ") == (Decimal("2"), Money(8000, "GBP"))

    def test_empty_is_nothing(self) -> None:
        assert parse_rate("") == (None, None)
        assert parse_rate("  ") == (None, None)

    def test_multiplier_must_be_positive(self) -> None:
        assert value_error(parse_rate, "0x") == '"0x": a credit multiplier must be more than 0'
        assert value_error(parse_rate, "0").startswith('"0": a credit multiplier must be more than 0')

    def test_multiplier_at_most_two_decimals(self) -> None:
        assert value_error(parse_rate, "1.255x") == '"1.255x": a credit multiplier can have at most 2 decimals'

    def test_bare_big_number_hints_at_a_currency(self) -> None:
        message = value_error(parse_rate, "120")
        assert "at most 10x" in message and "USD 120" in message

    def test_negative(self) -> None:
        assert value_error(parse_rate, "-1.5x").startswith('"-1.5x" is not a rate: use a credit multiplier like 1.5x')

    def test_unknown_currency_with_suggestion(self) -> None:
        assert value_error(parse_rate, "UDS 120") == '"UDS 120": unknown currency "UDS" (did you mean USD?)'

    def test_money_with_too_many_decimals(self) -> None:
        assert value_error(parse_rate, "USD 120.555") == '"USD 120.555": an amount can have at most 2 decimals'

    def test_zero_money(self) -> None:
        assert value_error(parse_rate, "USD 0") == '"USD 0": an hourly rate must be more than 0'

    def test_decimal_comma(self) -> None:
        assert value_error(parse_rate, "EUR 150,50").startswith('"EUR 150,50": use a dot for decimals')

    def test_two_of_a_kind(self) -> None:
        assert "two credit multipliers" in value_error(parse_rate, "1.5x; 2x")
        assert "two hourly rates" in value_error(parse_rate, "USD 100; EUR 90")

    @pytest.mark.parametrize("text", ["free", "1.5x USD 120", "USD", "$", "lots", "1.5.2x"])
    def test_garbage(self, text: str) -> None:
        message = value_error(parse_rate, text)
        assert message.startswith(f'"{text}" is not a rate')
        assert "1.5x; USD 120" in message


# ------------------------------------------------------------------------- CSV


class TestExampleFile:
    def test_example_parses_with_zero_errors(self) -> None:
        result = parse_experts_csv(EXAMPLE.read_text(encoding="utf-8"))
        assert result.ok, [str(error) for error in result.errors]
        assert 8 <= len(result.records) <= 10
        kinds = {record.kind for record in result.records}
        assert kinds == {ExpertKind.PRO_BONO, ExpertKind.COMPENSATED}
        providers = {record.meeting_link.provider for record in result.records}
        assert {MeetingProvider.ZOOM, MeetingProvider.GOOGLE_MEET, MeetingProvider.TEAMS} <= providers
        assert any(r.slack_user_id and r.telegram_user_id for r in result.records)
        assert len({record.timezone for record in result.records}) >= 7
        assert all(record.weekly for record in result.records)

    def test_example_multi_line_bio_keeps_later_lines_numbered(self) -> None:
        records = parse_experts_csv(EXAMPLE.read_text(encoding="utf-8")).records
        assert "\n" in records[0].bio
        assert records[0].line == 2
        assert records[1].line == 4  # the first bio spans lines 2-3


FULL_HEADER = (
    "name,handle,slack_user_id,telegram_user_id,email,timezone,languages,topics,"
    "headline,bio,pro_bono,rate,availability,meeting_link"
)


class TestGoodRows:
    def test_every_field(self) -> None:
        record = one_record(
            FULL_HEADER + "\n"
            'Asha Rao, @Asha.Rao ,U024BE7LH,123456789,asha@example.com,asia/kolkata,"EN, hi hi",'
            '"Fundraising; pricing, fundraising ,B2B SaaS",Angel investor,"Two exits.",no,'
            '"1.5x; USD 120","Mon-Fri 09:00-12:00; Wed 14:00-18:00",https://us02web.zoom.us/j/123\n'
        )
        assert record == ExpertRecord(
            line=2,
            name="Asha Rao",
            handle="asha.rao",
            slack_user_id="U024BE7LH",
            telegram_user_id=123456789,
            email="asha@example.com",
            timezone="Asia/Kolkata",
            languages=("en", "hi"),
            topics=("Fundraising", "pricing", "B2B SaaS"),
            headline="Angel investor",
            bio="Two exits.",
            kind=ExpertKind.COMPENSATED,
            rate_multiplier=Decimal("1.5"),
            hourly_rate=Money(12000, "USD"),
            weekly=parse_weekly("Mon-Fri 09:00-12:00; Wed 14:00-18:00"),
            meeting_link=record.meeting_link,
        )
        assert record.meeting_link.provider is MeetingProvider.ZOOM

    def test_minimal_columns_and_defaults(self) -> None:
        record = one_record("name,handle,timezone\nBo,bo,UTC\n")
        assert record.kind is ExpertKind.PRO_BONO
        assert record.rate_multiplier == Decimal(1)
        assert record.hourly_rate is None
        assert record.languages == ("en",)
        assert record.topics == ()
        assert record.weekly == ()
        assert record.meeting_link.provider is MeetingProvider.BUILT_IN
        assert (record.slack_user_id, record.telegram_user_id, record.email) == (None, None, None)
        assert (record.headline, record.bio) == ("", "")

    @pytest.mark.parametrize("answer", ["yes", "YES", "y", "true", "True", "1"])
    def test_pro_bono_yes(self, answer: str) -> None:
        assert one_record(f"{HEADER}\nBo,bo,UTC,{answer},,\n").kind is ExpertKind.PRO_BONO

    @pytest.mark.parametrize("answer", ["no", "N", "false", "0"])
    def test_pro_bono_no_with_rate(self, answer: str) -> None:
        record = one_record(f"{HEADER}\nBo,bo,UTC,{answer},2x,\n")
        assert record.kind is ExpertKind.COMPENSATED
        assert record.rate_multiplier == Decimal(2)

    def test_rate_without_pro_bono_means_compensated(self) -> None:
        record = one_record(f"{HEADER}\nBo,bo,UTC,,\u20ac90,\n")
        assert record.kind is ExpertKind.COMPENSATED
        assert record.rate_multiplier == Decimal(1)
        assert record.hourly_rate == Money(9000, "EUR")

    def test_header_names_are_forgiving(self) -> None:
        header = "Name, HANDLE ,TimeZone,Slack User ID,telegram-user-id,Meeting  Link"
        record = one_record(f"{header}\nBo,bo,UTC,U024BE7LH,42,\n")
        assert (record.slack_user_id, record.telegram_user_id) == ("U024BE7LH", 42)

    def test_utf8_bom(self) -> None:
        assert one_record("\ufeffname,handle,timezone\nBo,bo,UTC\n").handle == "bo"

    def test_blank_lines_and_empty_spreadsheet_rows_are_skipped(self) -> None:
        result = parse_experts_csv("\nname,handle,timezone\n\nBo,bo,UTC\n,,\n\r\nCy,cy,UTC\n\n")
        assert result.ok
        assert [(r.line, r.handle) for r in result.records] == [(4, "bo"), (7, "cy")]

    def test_crlf_line_endings_and_multi_line_bio(self) -> None:
        result = parse_experts_csv('name,handle,timezone,bio\r\nBo,bo,UTC,"one\r\ntwo"\r\nCy,cy,UTC,x\r\n')
        assert result.ok
        assert result.records[0].bio == "one\ntwo"
        assert [r.line for r in result.records] == [2, 4]

    def test_short_rows_are_padded(self) -> None:
        assert one_record("name,handle,timezone,bio,topics\nBo,bo,UTC\n").bio == ""

    def test_whitespace_is_stripped_everywhere(self) -> None:
        record = one_record('name,handle,timezone,email,headline\n  Bo  , bo , UTC , bo@x.io ,"  Hi "\n')
        assert (record.name, record.handle, record.timezone, record.email, record.headline) == (
            "Bo",
            "bo",
            "UTC",
            "bo@x.io",
            "Hi",
        )

    def test_meeting_providers(self) -> None:
        text = (
            "name,handle,timezone,meeting_link\n"
            "A,aa,UTC,https://meet.google.com/abc-defg-hij\n"
            "B,bb,UTC,https://teams.microsoft.com/l/meetup-join/x\n"
            "C,cc,UTC,https://whereby.com/room\n"
        )
        providers = [r.meeting_link.provider for r in parse_experts_csv(text).records]
        assert providers == [MeetingProvider.GOOGLE_MEET, MeetingProvider.TEAMS, MeetingProvider.OTHER]


class TestRowErrors:
    def test_str_of_row_error(self) -> None:
        assert str(RowError(7, "timezone", "unknown timezone 'Europe/Pariss'")) == (
            "line 7, timezone: unknown timezone 'Europe/Pariss'"
        )

    def test_result_ok(self) -> None:
        assert ImportResult((), ()).ok
        assert not ImportResult((), (RowError(1, "header", "x"),)).ok

    def test_timezone_suggestion(self) -> None:
        assert csv_errors("name,handle,timezone\nBo,bo,Europe/Pariss\n") == [
            "line 2, timezone: unknown timezone 'Europe/Pariss' (did you mean 'Europe/Paris'?)"
        ]

    def test_timezone_without_suggestion(self) -> None:
        (error,) = csv_errors("name,handle,timezone\nBo,bo,Mars/Olympus_Mons_Base\n")
        assert error.startswith("line 2, timezone: unknown timezone 'Mars/Olympus_Mons_Base'")

    def test_required_values(self) -> None:
        assert csv_errors("name,handle,timezone\n,,\u00a0\nBo,,UTC\n") == [
            # the first row is all blank (a non-breaking space is whitespace), so it is skipped
            "line 3, handle: a handle is required",
        ]
        assert csv_errors("name,handle,timezone\n,bo,\n") == [
            "line 2, name: a name is required",
            "line 2, timezone: a timezone is required, e.g. Asia/Kolkata",
        ]

    @pytest.mark.parametrize("handle", ["a", "x" * 33, "asha rao", "asha!", "@", "@@asha"])
    def test_bad_handles(self, handle: str) -> None:
        (error,) = csv_errors(f'name,handle,timezone\nBo,"{handle}",UTC\n')
        assert error.startswith(f'line 2, handle: "{handle}" is not a valid handle')

    def test_handle_limits(self) -> None:
        assert one_record("name,handle,timezone\nBo,@ab,UTC\n").handle == "ab"
        assert one_record(f"name,handle,timezone\nBo,{'x' * 32},UTC\n").handle == "x" * 32
        assert one_record("name,handle,timezone\nBo,A_b.c-9,UTC\n").handle == "a_b.c-9"

    @pytest.mark.parametrize("slack", ["u024be7lh", "X024BE7LH", "U02", "@asha", "U024BE7L-"])
    def test_bad_slack_ids(self, slack: str) -> None:
        (error,) = csv_errors(f"name,handle,timezone,slack_user_id\nBo,bo,UTC,{slack}\n")
        assert error.startswith(f'line 2, slack_user_id: "{slack}" does not look like a Slack user ID')

    def test_workspace_slack_id(self) -> None:
        assert one_record("name,handle,timezone,slack_user_id\nBo,bo,UTC,W012A3CDE\n").slack_user_id == "W012A3CDE"

    @pytest.mark.parametrize("telegram", ["@asha", "0", "-5", "12.0", "1e9", "\u0661\u0662\u0663", str(2**63)])
    def test_bad_telegram_ids(self, telegram: str) -> None:
        (error,) = csv_errors(f"name,handle,timezone,telegram_user_id\nBo,bo,UTC,{telegram}\n")
        assert error.startswith(f'line 2, telegram_user_id: "{telegram}" is not a Telegram user ID')

    @pytest.mark.parametrize("email", ["asha", "asha@", "asha@example", "a b@example.com", "a@@b.com"])
    def test_bad_emails(self, email: str) -> None:
        assert csv_errors(f"name,handle,timezone,email\nBo,bo,UTC,{email}\n") == [
            f'line 2, email: "{email}" is not an email address'
        ]

    def test_bad_language(self) -> None:
        assert csv_errors("name,handle,timezone,languages\nBo,bo,UTC,\"en, English\"\n") == [
            'line 2, languages: "English" is not a language code: use ISO codes like en, hi, pt'
        ]

    def test_bad_pro_bono(self) -> None:
        assert csv_errors(f"{HEADER}\nBo,bo,UTC,maybe,,\n") == ['line 2, pro_bono: "maybe" is not yes or no']

    def test_bad_pro_bono_still_checks_rate(self) -> None:
        assert csv_errors(f"{HEADER}\nBo,bo,UTC,maybe,lots,\n") == [
            'line 2, pro_bono: "maybe" is not yes or no',
            'line 2, rate: "lots" is not a rate: use a credit multiplier like 1.5x, an hourly rate like USD 120, '
            "or both: 1.5x; USD 120",
        ]

    def test_pro_bono_with_rate_is_rejected(self) -> None:
        (error,) = csv_errors(f"{HEADER}\nBo,bo,UTC,yes,USD 100,\n")
        assert error.startswith("line 2, rate: a pro-bono expert has no rate")

    def test_compensated_without_rate_is_rejected(self) -> None:
        (error,) = csv_errors(f"{HEADER}\nBo,bo,UTC,no,,\n")
        assert error.startswith("line 2, rate: a compensated expert needs a rate")

    def test_compensated_without_rate_column(self) -> None:
        (error,) = csv_errors("name,handle,timezone,pro_bono\nBo,bo,UTC,no\n")
        assert error.startswith("line 2, rate: a compensated expert needs a rate")

    def test_compensated_with_only_separators(self) -> None:
        (error,) = csv_errors(f"{HEADER}\nBo,bo,UTC,no,;,\n")
        assert error.startswith("line 2, rate: a compensated expert needs a rate")

    def test_bad_rate(self) -> None:
        assert csv_errors(f"{HEADER}\nBo,bo,UTC,,UDS 120,\n") == [
            'line 2, rate: "UDS 120": unknown currency "UDS" (did you mean USD?)'
        ]

    def test_bad_availability(self) -> None:
        assert csv_errors(f"{HEADER}\nBo,bo,UTC,,,Mnday 09:00-12:00\n") == [
            'line 2, availability: unknown day "Mnday" in "Mnday 09:00-12:00" (did you mean Monday?)'
        ]

    def test_bad_meeting_link(self) -> None:
        (error,) = csv_errors("name,handle,timezone,meeting_link\nBo,bo,UTC,http://zoom.us/j/1\n")
        assert error.startswith("line 2, meeting_link: meeting link must be an https:// URL")

    def test_every_bad_field_of_a_row_is_reported(self) -> None:
        errors = csv_errors(
            FULL_HEADER + "\n"
            ",a,x1,@tg,nope,Europe/Pariss,English,t,h,b,yes,2x,Mon 12:00-09:00,ftp://x\n"
        )
        assert [error.split(":")[0] for error in errors] == [
            "line 2, name",
            "line 2, handle",
            "line 2, slack_user_id",
            "line 2, telegram_user_id",
            "line 2, email",
            "line 2, timezone",
            "line 2, languages",
            "line 2, rate",
            "line 2, availability",
            "line 2, meeting_link",
        ]

    def test_errors_mean_no_records(self) -> None:
        result = parse_experts_csv("name,handle,timezone\nBo,bo,UTC\nCy,cy,Nowhere/Land\n")
        assert not result.ok
        assert result.records == ()
        assert [e.line for e in result.errors] == [3]


class TestWholeFile:
    def test_several_bad_rows_with_line_numbers_after_multi_line_bio(self) -> None:
        text = (
            "name,handle,timezone,bio,rate,availability\n"  # 1
            'Asha,asha,Asia/Kolkata,"Line one\n'  # 2
            "line two\n"  # 3
            'line three, with a comma",,Mon 09:00-10:00\n'  # 4
            "Bo,bo,Europe/Pariss,,,\n"  # 5
            "\n"  # 6
            'Cy,cy,UTC,"a ""quoted""\n'  # 7
            'word",,Mnday 09:00-10:00\n'  # 8
            "Di,di,UTC,ok,USD 12.345,Mon 10:00-09:00\n"  # 9
            "Ed,asha,UTC,,,\n"  # 10
            "Fi,fi,UTC,,,\n"  # 11 (fine)
        )
        assert csv_errors(text) == [
            "line 5, timezone: unknown timezone 'Europe/Pariss' (did you mean 'Europe/Paris'?)",
            'line 7, availability: unknown day "Mnday" in "Mnday 09:00-10:00" (did you mean Monday?)',
            'line 9, rate: "USD 12.345": an amount can have at most 2 decimals',
            'line 9, availability: "10:00-09:00": a time range must start before it ends '
            "(to go past midnight, split it: Mon 22:00-24:00; Tue 00:00-02:00)",
            'line 10, handle: handle "asha" is already used on line 2',
        ]

    def test_duplicate_handles_after_normalisation(self) -> None:
        assert csv_errors("name,handle,timezone\nA,@Asha,UTC\nB,bo,UTC\nC,ASHA,UTC\nD,asha,UTC\n") == [
            'line 4, handle: handle "asha" is already used on line 2',
            'line 5, handle: handle "asha" is already used on line 2',
        ]

    def test_duplicate_chat_accounts(self) -> None:
        errors = csv_errors(
            "name,handle,timezone,slack_user_id,telegram_user_id\n"
            "A,aa,UTC,U024BE7LH,42\n"
            "B,bb,UTC,U024BE7LH,42\n"
        )
        assert errors == [
            'line 3, slack_user_id: slack user id "U024BE7LH" is already used on line 2',
            'line 3, telegram_user_id: telegram user id "42" is already used on line 2',
        ]

    def test_too_many_fields(self) -> None:
        errors = csv_errors("name,handle,timezone,topics\nBo,bo,UTC,fundraising,pricing\nCy,cy,Nowhere\n")
        assert errors[0].startswith("line 2, row: this row has 5 values but the header has 4 columns")
        assert errors[1].startswith("line 3, timezone: unknown timezone 'Nowhere'")
        assert len(errors) == 2

    def test_unknown_columns_one_error_at_line_1(self) -> None:
        errors = csv_errors("name,handle,timezone,timezon,favourite_colour\nBo,bo,UTC,x,blue\n")
        assert len(errors) == 1
        assert errors[0].startswith(
            'line 1, header: unknown columns "timezon" (did you mean timezone?), "favourite_colour"; the columns are: '
        )

    def test_missing_required_columns(self) -> None:
        errors = csv_errors("name,email\nBo,bo@example.com\n")
        assert errors == [
            "line 1, header: missing required columns: handle, timezone (the first row must name the columns)"
        ]

    def test_rows_are_still_checked_when_the_header_has_problems(self) -> None:
        errors = csv_errors("name,handle,colour\nBo,b!,red\n")
        assert [e.split(":")[0] for e in errors] == ["line 1, header", "line 1, header", "line 2, handle"]

    def test_duplicate_columns(self) -> None:
        errors = csv_errors("name,handle,timezone,Email,e-mail,email\nBo,bo,UTC,a@b.co,,a@b.co\n")
        assert errors == [
            'line 1, header: unknown column "e-mail" (did you mean email?); the columns are: '
            "name, handle, slack_user_id, telegram_user_id, email, timezone, languages, topics, headline, bio, "
            "pro_bono, rate, availability, meeting_link",
            "line 1, header: these columns appear more than once: email",
        ]

    def test_value_under_a_blank_header_cell(self) -> None:
        assert one_record("name,handle,timezone,,\nBo,bo,UTC,,\n").handle == "bo"
        assert csv_errors("name,handle,timezone,\nBo,bo,UTC,oops\n") == [
            'line 2, row: "oops" is in a column that has no header'
        ]

    @pytest.mark.parametrize("text", ["", "\ufeff", "\n\n", " , ,\n"])
    def test_empty_file(self, text: str) -> None:
        (error,) = csv_errors(text)
        assert error.startswith("line 1, header: the file is empty")

    def test_header_only_is_an_empty_import(self) -> None:
        assert parse_experts_csv("name,handle,timezone\n") == ImportResult((), ())

    def test_semicolon_separated_file(self) -> None:
        (error,) = csv_errors("name;handle;timezone\nBo;bo;UTC\n")
        assert error.startswith("line 1, header: the columns must be separated by commas")

    def test_unclosed_quote_is_reported_not_swallowed(self) -> None:
        errors = csv_errors('name,handle,timezone,bio\nBo,bo,UTC,ok\nCy,cy,UTC,"never closed\nDi,di,UTC,x\n')
        assert errors == [
            "line 3, row: this row is not valid CSV: check its double quotes (a quoted value must end with a "
            'quote, and a quote inside a value is written twice: ""). Rows after it were not checked. '
            "(unexpected end of data)"
        ]

    def test_text_after_a_closing_quote(self) -> None:
        errors = csv_errors('name,handle,timezone,bio\nBo,bo,Nowhere,ok\nCy,cy,UTC,"fine" not\nDi,di,Nowhere,x\n')
        assert [e.split(":")[0] for e in errors] == ["line 2, timezone", "line 3, row"]

    def test_quotes_inside_an_unquoted_value_are_kept(self) -> None:
        assert one_record('name,handle,timezone\nLiam "Ace" Murphy,liam,UTC\n').name == 'Liam "Ace" Murphy'

    def test_field_too_large(self) -> None:
        huge = "x" * 200_000  # beyond the csv module's field size limit
        errors = csv_errors(f'name,handle,timezone,bio\nBo,bo,UTC,ok\nCy,cy,UTC,"{huge}"\n')
        assert errors[0].startswith("line 3, row: this row is not valid CSV")


def test_values_longer_than_the_database_allows_are_row_errors():
    header = "name,handle,timezone,headline,topics\n"
    result = parse_experts_csv(header + f"{'N' * 121},ok,UTC,{'h' * 201},{'t' * 61}\n")
    columns = {e.column for e in result.errors}
    assert {"name", "headline", "topics"} <= columns and not result.ok

"""One Go-duration parser on our side (components/goduration.py), and the pack's own copy held equal to it.

The table is what Go's time.ParseDuration answers (Go 1.22 source, time/format.go): values in
nanoseconds, None for an error.
"""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cdb_ops.audit import breakglass
from cdb_core.errors import CdbError
from cdb_stack.parts.event_bus import parse_duration as stream_duration
from components import goduration
from components.flux import parse_duration as flux_duration
from policy_pack.rules.helpers.durations import parse_duration as pack_duration

MAX = 2**63 - 1
GO = [
    ("0", 0), ("+0", 0), ("-0", 0), ("5s", 5 * 10**9), ("30s", 30 * 10**9), ("1478s", 1478 * 10**9),
    ("-5s", -5 * 10**9), ("+5s", 5 * 10**9), ("-0s", 0), ("+0s", 0), ("5.0s", 5 * 10**9),
    ("5.6s", 5600 * 10**6), ("5.s", 5 * 10**9), (".5s", 500 * 10**6), ("1.0s", 10**9), ("1.00s", 10**9),
    ("1.004s", 1004 * 10**6), ("1.0040s", 1004 * 10**6), ("100.00100s", 100001 * 10**6), ("10ns", 10),
    ("11us", 11000), ("12µs", 12000), ("12μs", 12000), ("13ms", 13 * 10**6), ("14s", 14 * 10**9),
    ("15m", 15 * 60 * 10**9), ("16h", 16 * 3600 * 10**9), ("3h30m", 12600 * 10**9),
    ("10.5s4m", 250500 * 10**6), ("-2m3.4s", -123400 * 10**6), ("1h2m3s4ms5us6ns", 3723004005006),
    ("39h9m14.425s", 140954425 * 10**6), ("52763797000ns", 52763797000),
    ("0.3333333333333333333h", 20 * 60 * 10**9), ("9007199254740993ns", 9007199254740993),
    ("9223372036854775807ns", MAX), ("9223372036854775.807us", MAX), ("9223372036s854ms775us807ns", MAX),
    ("-9223372036854775808ns", -(2**63)), ("-9223372036854775.808us", -(2**63)),
    ("0.100000000000000000000h", 360 * 10**9), ("0.830103483285477580700h", 2988372539827),
    # what Go refuses
    ("", None), ("3", None), ("-", None), ("s", None), (".", None), ("-.", None), (".s", None), ("+.s", None),
    ("1d", None), ("\x85\x85", None), ("\xffff", None), ("hello \xffff world", None), ("5 m", None),
    ("5min", None), ("1M", None), (" 1m", None), ("1m ", None), ("1m\n", None), ("1h-2m", None), ("--1s", None),
    ("9223372036854775808ns", None), ("9223372036854775.808us", None), ("-9223372036854775809ns", None),
    ("3000000h", None), ("٥m", None),
]


def pack_nanoseconds(text):
    seconds = pack_duration(text)
    return None if seconds is None else int(seconds.scaleb(9))


def ours(text):
    try:
        return goduration.nanoseconds(text)
    except goduration.DurationError:
        return None


@pytest.mark.parametrize(("text", "nanoseconds"), GO)
def test_our_parser_and_the_packs_copy_answer_what_go_answers(text, nanoseconds):
    assert ours(text) == nanoseconds
    assert pack_nanoseconds(text) == nanoseconds


@pytest.mark.parametrize("value", [None, 300, 300.0, b"5m", ["5m"]])
def test_only_strings_are_durations(value):
    with pytest.raises(goduration.DurationError, match="is not a duration"):
        goduration.nanoseconds(value)
    assert pack_duration(value) is None


DURATION_ALPHABET = "0123456789.+-hmsnuµμd "
go_like = st.lists(
    st.tuples(st.tuples(st.text("0123456789", max_size=22), st.sampled_from(["", "."]),
                        st.text("0123456789", max_size=22)).map("".join),
              st.sampled_from(["h", "m", "s", "ms", "us", "µs", "μs", "ns", "", "d", "x"])),
    min_size=1, max_size=5,
).map(lambda parts: "".join(number + unit for number, unit in parts))


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(alphabet=DURATION_ALPHABET, max_size=24), st.text(max_size=12),
                 st.tuples(st.sampled_from(["", "+", "-"]), go_like).map("".join)))
@example("1.m")
@example("9223372036.854775808s")
def test_the_packs_copy_equals_ours_on_generated_strings(text):
    expected = ours(text)
    assert pack_nanoseconds(text) == expected
    if expected is not None:
        assert goduration.seconds(text) == Fraction(expected, 10**9)


def test_flux_reads_go_durations_within_the_crd_pattern():
    assert flux_duration("1m30s") == 90 and flux_duration("0.5h") == 1800
    for text in ("-1m", "1us", ".5m", "0"):  # Go reads them, Flux's CRD pattern refuses them
        assert ours(text) is not None
        with pytest.raises(ValueError, match="not a Flux duration"):
            flux_duration(text)
    with pytest.raises(ValueError, match="292 years"):
        flux_duration("3000000h")


def test_stream_durations_are_go_durations_in_whole_seconds():
    assert stream_duration("1.5m", "streams[0].maxAge") == timedelta(seconds=90)
    assert stream_duration("168h", "streams[0].maxAge") == timedelta(days=7)
    with pytest.raises(ValueError, match=r"^streams\[0\].maxAge: '500ms' is not a whole number of seconds"):
        stream_duration("500ms", "streams[0].maxAge")
    with pytest.raises(ValueError, match=r"^streams\[0\].maxAge: '7d' is not a duration; write a number"):
        stream_duration("7d", "streams[0].maxAge")


def test_break_glass_expiry_takes_go_durations_and_whole_days():
    assert breakglass.parse_duration("1h30m") == timedelta(minutes=90)
    assert breakglass.parse_duration(" 2d ") == timedelta(days=2)
    assert breakglass.parse_duration("90m") == timedelta(minutes=90)
    for text in ("1.5d", "soon", "4 h", ""):
        with pytest.raises(CdbError, match="use minutes, hours or days"):
            breakglass.parse_duration(text)

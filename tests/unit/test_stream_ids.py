"""Stream identifiers: labels, ARNs, shard ids and sequence numbers (spec/stream-model.md section 1)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from rivulet.core.stream_ids import (
    SEQ_BASE,
    parse_seq,
    parse_stream_arn,
    shard_id,
    shard_ms,
    stream_arn,
    stream_label,
    wire_seq,
)

# AWS's own example (stream-model.md section 1): label 2015-05-20T20:51:10.252.
AWS_LABEL_MS = 1_432_155_070_252
AWS_LABEL = "2015-05-20T20:51:10.252"
ARN = "arn:aws:dynamodb:us-west-2:111122223333:table/Forum/stream/2015-05-20T20:51:10.252"

# Labels ---------------------------------------------------------------------------------------


def test_label_of_the_aws_example() -> None:
    assert stream_label(AWS_LABEL_MS) == AWS_LABEL


@pytest.mark.parametrize(
    ("ms", "label"),
    [
        (0, "1970-01-01T00:00:00.000"),
        (1, "1970-01-01T00:00:00.001"),
        (999, "1970-01-01T00:00:00.999"),
        (1000, "1970-01-01T00:00:01.000"),
        (1_764_158_400_000, "2025-11-26T12:00:00.000"),
        (1_764_158_399_999, "2025-11-26T11:59:59.999"),
        (1_767_225_599_999, "2025-12-31T23:59:59.999"),
        (1_767_225_600_000, "2026-01-01T00:00:00.000"),
        (1_709_164_800_010, "2024-02-29T00:00:00.010"),
    ],
)
def test_label_is_utc_with_exactly_three_fraction_digits_and_no_zone(ms: int, label: str) -> None:
    assert stream_label(ms) == label


def test_label_agrees_with_integer_arithmetic_at_every_millisecond_of_a_second() -> None:
    # Float division must never round a .999 into the next second.
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for base in (1_432_155_070_000, 1_764_158_399_000, 4_102_444_799_000):
        for ms in range(base, base + 1000):
            t = epoch + timedelta(milliseconds=ms)
            assert stream_label(ms) == t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}"


def test_label_does_not_depend_on_the_local_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        for zone in ("America/New_York", "Asia/Kolkata", "Pacific/Chatham"):
            monkeypatch.setenv("TZ", zone)
            time.tzset()
            assert stream_label(AWS_LABEL_MS) == AWS_LABEL
    finally:
        monkeypatch.undo()
        time.tzset()


# ARNs -----------------------------------------------------------------------------------------


def test_arn_format() -> None:
    assert stream_arn("us-west-2", "111122223333", "Forum", AWS_LABEL) == ARN


@pytest.mark.parametrize(
    "table",
    ["Forum", "abc", "a.b-c_D9", "x" * 255, "123", "___", "..."],
)
def test_arn_round_trip(table: str) -> None:
    arn = stream_arn("eu-central-1", "000000000000", table, AWS_LABEL)
    assert parse_stream_arn(arn) == (table, AWS_LABEL)


@pytest.mark.parametrize(
    "arn",
    [
        ARN,
        "arn:aws-cn:dynamodb:cn-north-1:111122223333:table/Forum/stream/2015-05-20T20:51:10.252",
        "arn:aws-us-gov:dynamodb:us-gov-west-1:111122223333:table/Forum/stream/2015-05-20T20:51:10.252",
        "arn:aws:dynamodb:ddblocal:000000000000:table/Forum/stream/2015-05-20T20:51:10.252",
    ],
)
def test_arn_of_other_partitions_and_regions_parses(arn: str) -> None:
    assert parse_stream_arn(arn) == ("Forum", AWS_LABEL)


@pytest.mark.parametrize(
    "arn",
    [
        "",
        "Forum",
        AWS_LABEL,
        ARN.replace("arn:", "", 1),
        ARN.replace("arn:aws:", "arn:azure:"),
        ARN.replace(":dynamodb:", ":kinesis:"),
        ARN.replace(":dynamodb:", "::"),
        ARN.replace("us-west-2", "US-WEST-2"),
        ARN.replace("us-west-2", ""),
        ARN.replace("111122223333", "11112222333"),  # 11 digits
        ARN.replace("111122223333", "1111222233334"),  # 13 digits
        ARN.replace("111122223333", "11112222333a"),
        ARN.replace(":table/", ":tables/"),
        ARN.replace("table/Forum", "table/ab"),  # table names have at least 3 characters
        ARN.replace("table/Forum", "table/" + "x" * 256),
        ARN.replace("table/Forum", "table/For um"),
        ARN.replace("table/Forum", "table/For:um"),
        ARN.replace("table/Forum", "table/Fo/rum"),
        ARN.replace("table/Forum", "table/Förum"),
        ARN.replace("/stream/", "/streams/"),
        ARN.replace("/stream/", "/"),
        ARN.replace(AWS_LABEL, ""),
        ARN.replace(AWS_LABEL, "2015-05-20T20:51:10"),  # no milliseconds
        ARN.replace(AWS_LABEL, "2015-05-20T20:51:10.25"),
        ARN.replace(AWS_LABEL, "2015-05-20T20:51:10.2520"),
        ARN.replace(AWS_LABEL, "2015-05-20T20:51:10.252Z"),  # no zone suffix
        ARN.replace(AWS_LABEL, "2015-05-20 20:51:10.252"),
        ARN.replace(AWS_LABEL, "2015-05-20T20:51:1a.252"),
        ARN.replace(AWS_LABEL, "\uff12015-05-20T20:51:10.252"),  # fullwidth digit two
        ARN + "/stream/" + AWS_LABEL,
        ARN + "/",
        " " + ARN,
        ARN + " ",
        ARN + "\n",
        ARN + "\r\n",
        "\n" + ARN,
        "arn:aws:dynamodb:us-west-2:111122223333:table/Forum",  # a table ARN
    ],
)
def test_malformed_arn_is_none(arn: str) -> None:
    assert parse_stream_arn(arn) is None


# Shard ids ------------------------------------------------------------------------------------

SHARD_ID = re.compile(r"^shardId-[0-9]{20}-[0-9a-f]{8}$")


@pytest.mark.parametrize("ms", [0, 1, AWS_LABEL_MS, 1_764_158_400_123, 10**20 - 1])
def test_shard_id_format(ms: int) -> None:
    sid = shard_id(ms)
    assert SHARD_ID.match(sid), sid
    assert len(sid) == 37
    assert sid.startswith(f"shardId-{ms:020d}-")
    # The Kinesis adapter's parse: Long.parseLong(shardId.split("-")[1]).
    assert int(sid.split("-")[1]) == ms
    assert shard_ms(sid) == ms


def test_shard_ids_sort_in_millisecond_order() -> None:
    times = [5, 99, 100, 1_000_000, AWS_LABEL_MS, AWS_LABEL_MS + 1, 1_764_158_400_000]
    ids = [shard_id(ms) for ms in times]
    assert sorted(ids) == ids


def test_shard_id_suffix_is_random() -> None:
    suffixes = {shard_id(AWS_LABEL_MS)[-8:] for _ in range(50)}
    assert len(suffixes) == 50


def test_shard_ms_of_an_aws_shard_id() -> None:
    assert shard_ms("shardId-00000001414562045508-2bac9cd2") == 1_414_562_045_508


# Sequence numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "100000000000000000001"),
        (2, "100000000000000000002"),
        (12345, "100000000000000012345"),
        (10**20 - 1, "199999999999999999999"),
    ],
)
def test_wire_seq_is_21_digits(n: int, text: str) -> None:
    assert wire_seq(n) == text
    assert len(text) == 21
    assert parse_seq(text) == n


def test_wire_seq_string_order_is_numeric_order() -> None:
    numbers = [1, 2, 9, 10, 11, 99, 100, 10**6, 10**12 + 7, 10**19]
    texts = [wire_seq(n) for n in numbers]
    assert sorted(texts) == texts
    assert [int(t) for t in texts] == [SEQ_BASE + n for n in numbers]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "-1",
        "+100000000000000000001",
        "-100000000000000000001",
        "1e21",
        "100000000000000000001.0",
        " 100000000000000000001",
        "100000000000000000001 ",
        "100000000000000000001\n",
        "100_000_000_000_000_000_001",
        "0x56bc75e2d63100001",
        # Arabic-Indic digits: str.isdigit() is True for them, and int() accepts them.
        "\u0661" + "\u0660" * 19 + "\u0661",
        "\u0661",
        "10000000000000000000\u0661",
        "\uff11" + "\uff10" * 19 + "\uff11",  # fullwidth digits, likewise
        "\u00b2",  # superscript two: isdigit() is True, int() rejects it
        "0",
        "1",
        "99999999999999999999",  # 20 digits: below every number we emit
        "099999999999999999999",
        "300000000000000499659"[:20],
    ],
)
def test_parse_seq_rejects_what_is_not_ours(text: str) -> None:
    assert parse_seq(text) is None

"""Stream records are encrypted at rest: the raw SQLite file holds none of their values.

Items themselves are stored in plaintext (docs/encryption.md), so the marker values are put into
items that are then deleted: afterwards they live on only inside the stream's records (the
INSERT's NewImage, the REMOVE's OldImage). SQLite runs with secure_delete, so the deleted items'
bytes do not linger in free space; a clean stop checkpoints the WAL into the main file.
"""

from __future__ import annotations

import base64
import sqlite3
import uuid
from pathlib import Path
from typing import Any

from conftest import start_server

from streams.stream_helpers import create_stream_table, read_stream

# Binary attribute values are stored by DynamoDB JSON as base64, so that is what to look for.
B_VALUE = b"binary-marker-" + uuid.uuid4().hex.encode()


def _markers() -> dict[str, str]:
    tag = uuid.uuid4().hex
    return {
        "s": f"secret-string-{tag}",
        "n": "31415926535897932384626433832795",
        "m": f"nested-secret-{tag}",
        "ss": f"set-member-{tag}",
    }


def _raw_bytes(data_dir: Path) -> bytes:
    """Every byte SQLite keeps for the database: the main file and any WAL or journal."""
    return b"".join(p.read_bytes() for p in data_dir.iterdir() if p.name.startswith("rivulet.db"))


def test_raw_sqlite_file_holds_no_stream_record_value_in_plaintext(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    markers = _markers()
    server = start_server(data_dir)
    try:
        ddb = server.client()
        arn = create_stream_table(ddb, "secrets", "NEW_AND_OLD_IMAGES")
        item: dict[str, Any] = {
            "id": {"S": "key-1"},
            "s": {"S": markers["s"]},
            "n": {"N": markers["n"]},
            "m": {"M": {"inner": {"S": markers["m"]}}},
            "ss": {"SS": [markers["ss"]]},
            "b": {"B": B_VALUE},
        }
        ddb.put_item(TableName="secrets", Item=item)
        ddb.delete_item(TableName="secrets", Key={"id": {"S": "key-1"}})
    finally:
        assert server.stop() == 0

    raw = _raw_bytes(data_dir)
    # The records are there (two rows, each carrying a sealed payload) ...
    with sqlite3.connect(data_dir / "rivulet.db") as conn:
        payloads = [row[0] for row in conn.execute("SELECT payload FROM records")]
    assert len(payloads) == 2
    assert all(len(p) > 100 for p in payloads)
    # ... and none of their values appears anywhere in the file, nor the base64 of the binary.
    needles = [m.encode() for m in markers.values()] + [base64.b64encode(B_VALUE), B_VALUE]
    found = [n for n in needles if n in raw]
    assert found == []
    assert b"key-1" not in raw

    # The same records still read back in full through the Streams API after a restart.
    server = start_server(data_dir)
    try:
        records = read_stream(server.streams(), arn)
        assert [r["eventName"] for r in records] == ["INSERT", "REMOVE"]
        assert records[0]["dynamodb"]["NewImage"] == {**item}
        assert records[1]["dynamodb"]["OldImage"] == {**item}
    finally:
        server.stop()

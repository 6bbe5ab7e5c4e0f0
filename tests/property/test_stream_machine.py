"""State machine: random writes and stream switches against a live server, every stream read back
and compared with a model of the exact records (issue #3; records.md sections 2-4, 7).

DynamoDB rules checked: a record is written exactly when the stored item changes (no-op puts and
updates, failed conditions and cancelled transactions write none); images per view type are whole
items; SizeBytes is the item size of Keys plus the included images; a key's records stay in
order in one shard; disabling closes every shard and re-enabling creates a new stream.
"""

from __future__ import annotations

import copy
import datetime
import functools
import itertools
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from botocore.exceptions import ClientError
from conftest import RunningServer, start_server
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)
from stream_model import (
    Action,
    ExpectedStream,
    Item,
    ItemKey,
    TableModel,
    apply_actions,
    canon_number,
    compact_record,
    image_of,
    normalise_item,
    respell,
    update_expression,
)

SHARDS = 3
REGION = "us-east-1"
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
RECORD_MEMBERS = {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb"}
DYNAMODB_MEMBERS = {
    "ApproximateCreationDateTime",
    "Keys",
    "SequenceNumber",
    "SizeBytes",
    "StreamViewType",
}
CONDITION_FAILED = ("ConditionalCheckFailedException", "The conditional request failed")

# A small key space so that writes collide: 3 partition keys x 2 sort keys, the sort keys spelled
# several ways (all spellings address the same item).
PARTITION_KEYS = ("a", "b", "c")
SORT_KEY_SPELLINGS = ("1", "1.0", "10E-1", "2", "2.00", "0.2E1")
KEYS = st.tuples(st.sampled_from(PARTITION_KEYS), st.sampled_from(SORT_KEY_SPELLINGS))

# Values include equal-but-differently-written ones (numbers, map key order, set order).
NUMBERS = ("1", "1.0", "10E-1", "1.5", "-3", "120", "1.2E2", "0.00", "-1.5")
ADD_NUMBERS = ("0", "0.0", "1", "-1.5", "2E1")
STRING_SETS = (("p",), ("p", "q"), ("q", "p"), ("q", "r", "p"))
GENERIC_VALUES: tuple[dict[str, Any], ...] = (
    {"S": "x"},
    {"S": "héllo"},
    {"S": ""},
    {"N": "1"},
    {"N": "1.0"},
    {"N": "1.5"},
    {"N": "-3"},
    {"N": "120"},
    {"BOOL": True},
    {"BOOL": False},
    {"NULL": True},
    {"B": b"\x00\xff"},
    {"M": {"x": {"N": "1"}, "y": {"S": "z"}}},
    {"M": {"y": {"S": "z"}, "x": {"N": "1.00"}}},
    {"M": {}},
    {"M": {"s": {"SS": ["q", "p"]}, "b": {"B": b"\x01"}, "l": {"L": [{"NULL": True}]}}},
    {"M": {"l": {"L": [{"NULL": True}]}, "b": {"B": b"\x01"}, "s": {"SS": ["p", "q"]}}},
    {"N": "1E+125"},
    {"N": "12345678901234567890123456789012345678"},
    {"SS": ["p", "q"]},
    {"SS": ["q", "p"]},
    {"NS": ["1", "2.5"]},
    {"NS": ["2.50", "1E0"]},
    {"BS": [b"a", b"bc"]},
    {"BS": [b"bc", b"a"]},
    {"L": [{"S": "x"}, {"N": "2"}]},
    {"L": [{"S": "x"}, {"N": "2.0"}]},
    {"L": [{"N": "2"}, {"S": "x"}]},
    {"L": []},
)
GENERIC = st.sampled_from(GENERIC_VALUES)
NUMBER = st.sampled_from(NUMBERS).map(lambda n: {"N": n})
STRING_SET = st.sampled_from(STRING_SETS).map(lambda s: {"SS": list(s)})
# `n` is always a number and `ss` always a string set, so ADD/DELETE on them are well-typed.
ATTRIBUTES = st.fixed_dictionaries(
    {}, optional={"a": GENERIC, "b": GENERIC, "n": NUMBER, "ss": STRING_SET}
)
ACTION = st.one_of(
    st.tuples(st.just("SET"), st.sampled_from(["a", "b"]), GENERIC),
    st.tuples(st.just("SET"), st.just("n"), NUMBER),
    st.tuples(st.just("SET"), st.just("ss"), STRING_SET),
    st.tuples(st.just("INC"), st.just("n"), NUMBER),
    st.tuples(st.just("REMOVE"), st.sampled_from(["a", "b", "n", "ss"]), st.none()),
    st.tuples(st.just("ADD"), st.just("n"), st.sampled_from(ADD_NUMBERS).map(lambda n: {"N": n})),
    st.tuples(st.just("ADD"), st.just("ss"), STRING_SET),
    st.tuples(st.just("DELETE"), st.just("ss"), STRING_SET),
)
REMOVAL = st.one_of(
    st.tuples(st.just("REMOVE"), st.sampled_from(["a", "b", "n", "ss"]), st.none()),
    st.tuples(st.just("DELETE"), st.just("ss"), STRING_SET),
)
# Removal-only updates are drawn often on purpose: on a missing item they create nothing.
ACTIONS = st.one_of(
    st.lists(ACTION, max_size=3, unique_by=lambda a: a[1]),
    st.lists(REMOVAL, min_size=1, max_size=2, unique_by=lambda a: a[1]),
)
CONDITIONS = st.sampled_from([None, "exists", "not_exists"])
BATCH_OPS = st.lists(
    st.tuples(KEYS, st.one_of(st.none(), ATTRIBUTES)),  # None: DeleteRequest
    min_size=1,
    max_size=4,
)
TRANSACT_OPS = st.lists(
    st.tuples(
        KEYS,
        st.one_of(
            st.tuples(st.just("Put"), ATTRIBUTES, CONDITIONS),
            st.tuples(st.just("Update"), ACTIONS.filter(bool), CONDITIONS),
            st.tuples(st.just("Delete"), st.none(), CONDITIONS),
            st.tuples(
                st.just("ConditionCheck"), st.none(), st.sampled_from(["exists", "not_exists"])
            ),
        ),
    ),
    min_size=2,
    max_size=3,
)

F = TypeVar("F", bound=Callable[..., None])


def step(method: F) -> F:
    """Marks the machine dirty while a rule runs, so a failing step is not followed by the
    (then meaningless) final stream check in teardown."""

    @functools.wraps(method)
    def wrapper(self: StreamMachine, *args: Any, **kwargs: Any) -> None:
        self.clean = False
        method(self, *args, **kwargs)
        self.clean = True

    return wrapper  # type: ignore[return-value]


def error_of(call: Callable[[], Any]) -> tuple[tuple[str, str], dict[str, Any]]:
    """((code, message), response) of a call that must fail."""
    try:
        call()
    except ClientError as error:
        response: dict[str, Any] = error.response
        return (response["Error"]["Code"], response["Error"]["Message"]), response
    raise AssertionError("the call succeeded but should have failed")


class StreamMachine(RuleBasedStateMachine):
    def __init__(self, ddb: Any, streams: Any, with_range: bool) -> None:
        super().__init__()
        self.ddb = ddb
        self.streams = streams
        self.with_range = with_range
        self.table = f"sm-{uuid.uuid4().hex[:12]}"
        self.model = TableModel(("pk", "sk") if with_range else ("pk",))
        self.created = False
        self.clean = True

    # --- helpers ---------------------------------------------------------------------------------

    def wire_key(self, drawn: tuple[str, str]) -> Item:
        pk, sk = drawn
        key: Item = {"pk": {"S": pk}}
        if self.with_range:
            key["sk"] = {"N": sk}
        return key

    def model_key(self, drawn: tuple[str, str]) -> ItemKey:
        return self.model.key_of(self.wire_key(drawn))

    def distinct(self, ops: list[Any]) -> list[Any]:
        """Drop operations on a key already used (batches and transactions need distinct items;
        a hash-only table folds the sort keys together)."""
        seen: set[ItemKey] = set()
        out = []
        for op in ops:
            key = self.model_key(op[0])
            if key not in seen:
                seen.add(key)
                out.append(op)
        return out

    def passes(self, key: ItemKey, condition: str | None) -> bool:
        return condition is None or (condition == "exists") == (key in self.model.items)

    @staticmethod
    def condition(condition: str | None) -> dict[str, Any]:
        if condition is None:
            return {}
        function = "attribute_exists" if condition == "exists" else "attribute_not_exists"
        return {"ConditionExpression": f"{function}(#k)", "ExpressionAttributeNames": {"#k": "pk"}}

    def update_request(self, actions: list[Action], condition: str | None) -> dict[str, Any]:
        request: dict[str, Any] = {}
        if actions:
            request = update_expression(copy.deepcopy(actions))
        cond = self.condition(condition)
        if cond:
            request["ConditionExpression"] = cond["ConditionExpression"]
            names = request.setdefault("ExpressionAttributeNames", {})
            names.update(cond["ExpressionAttributeNames"])
        return request

    def updated(self, key: ItemKey, wire_key: Item, actions: list[Action]) -> Item | None:
        """The model item after an update: a missing item is created from its key, unless the
        update only removes (then nothing is created); an update without actions still creates
        a key-only item."""
        old = self.model.items.get(key)
        base = old if old is not None else normalise_item(wire_key)
        new = apply_actions(base, actions)
        if old is None and actions and new == normalise_item(wire_key):
            return None
        return new

    # --- table and stream switches ---------------------------------------------------------------

    @initialize(view=st.sampled_from([None, *VIEW_TYPES]))
    def create_table(self, view: str | None) -> None:
        schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
        definitions = [{"AttributeName": "pk", "AttributeType": "S"}]
        if self.with_range:
            schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
            definitions.append({"AttributeName": "sk", "AttributeType": "N"})
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeySchema": schema,
            "AttributeDefinitions": definitions,
            "BillingMode": "PAY_PER_REQUEST",
        }
        if view is not None:
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
        desc = self.ddb.create_table(**request)["TableDescription"]
        self.created = True
        if view is not None:
            self.model.streams.append(ExpectedStream(desc["LatestStreamArn"], view))
        else:
            assert "LatestStreamArn" not in desc

    @rule()
    @step
    def disable_stream(self) -> None:
        def call() -> Any:
            return self.ddb.update_table(
                TableName=self.table, StreamSpecification={"StreamEnabled": False}
            )

        stream = self.model.active
        if stream is None:
            message = f"Table has no stream to disable: TableName: {self.table}"
            assert error_of(call)[0] == ("ValidationException", message)
            return
        desc = call()["TableDescription"]
        assert desc["LatestStreamArn"] == stream.arn
        stream.enabled = False

    @rule(view=st.sampled_from(VIEW_TYPES))
    @step
    def enable_stream(self, view: str) -> None:
        def call() -> Any:
            return self.ddb.update_table(
                TableName=self.table,
                StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
            )

        if self.model.active is not None:
            message = f"Table already has an enabled stream: TableName: {self.table}"
            assert error_of(call)[0] == ("ValidationException", message)
            return
        desc = call()["TableDescription"]
        arn = desc["LatestStreamArn"]
        assert arn not in [s.arn for s in self.model.streams]
        assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": view}
        self.model.streams.append(ExpectedStream(arn, view))

    # --- single-item writes ----------------------------------------------------------------------

    @rule(key=KEYS, attributes=ATTRIBUTES, condition=CONDITIONS)
    @step
    def put_item(self, key: tuple[str, str], attributes: Item, condition: str | None) -> None:
        wire_key = self.wire_key(key)
        item = {**copy.deepcopy(attributes), **wire_key}
        self._put(self.model_key(key), item, condition)

    @precondition(lambda self: bool(self.model.items))
    @rule(data=st.data())
    @step
    def put_identical(self, data: st.DataObject) -> None:
        # The stored item again, every value spelled differently: not a change.
        key = data.draw(st.sampled_from(sorted(self.model.items)))
        item = {name: respell(v) for name, v in self.model.items[key].items()}
        self._put(key, item, data.draw(CONDITIONS))

    def _put(self, key: ItemKey, item: Item, condition: str | None) -> None:
        def call() -> Any:
            return self.ddb.put_item(TableName=self.table, Item=item, **self.condition(condition))

        if not self.passes(key, condition):
            assert error_of(call)[0] == CONDITION_FAILED
            return
        call()
        self.model.write(key, normalise_item(item))

    @rule(key=KEYS, actions=ACTIONS, condition=CONDITIONS)
    @step
    def update_item(
        self, key: tuple[str, str], actions: list[Action], condition: str | None
    ) -> None:
        self._update(self.wire_key(key), actions, condition)

    @precondition(lambda self: bool(self.model.items))
    @rule(data=st.data())
    @step
    def update_without_change(self, data: st.DataObject) -> None:
        # SET of the current values respelled, ADD of zero to a present number: not a change.
        key = data.draw(st.sampled_from(sorted(self.model.items)))
        item = self.model.items[key]
        actions: list[Action] = []
        for name in sorted(set(item) - set(self.model.key_names)):
            if name == "n" and data.draw(st.booleans()):
                actions.append(("ADD", "n", {"N": data.draw(st.sampled_from(["0", "0.0"]))}))
            else:
                actions.append(("SET", name, respell(item[name])))
        wire_key = {name: respell(item[name]) for name in self.model.key_names}
        self._update(wire_key, actions, data.draw(CONDITIONS))

    def _update(self, wire_key: Item, actions: list[Action], condition: str | None) -> None:
        key = self.model.key_of(wire_key)
        request = self.update_request(actions, condition)

        def call() -> Any:
            return self.ddb.update_item(TableName=self.table, Key=wire_key, **request)

        if not self.passes(key, condition):
            assert error_of(call)[0] == CONDITION_FAILED
            return
        call()
        self.model.write(key, self.updated(key, wire_key, actions))

    @rule(key=KEYS, condition=CONDITIONS)
    @step
    def delete_item(self, key: tuple[str, str], condition: str | None) -> None:
        model_key = self.model_key(key)

        def call() -> Any:
            return self.ddb.delete_item(
                TableName=self.table, Key=self.wire_key(key), **self.condition(condition)
            )

        if not self.passes(model_key, condition):
            assert error_of(call)[0] == CONDITION_FAILED
            return
        call()
        self.model.write(model_key, None)

    # --- batches and transactions ----------------------------------------------------------------

    @rule(ops=BATCH_OPS)
    @step
    def batch_write(self, ops: list[tuple[tuple[str, str], Item | None]]) -> None:
        requests = []
        changes: list[tuple[ItemKey, Item | None]] = []
        for drawn, attributes in self.distinct(ops):
            wire_key = self.wire_key(drawn)
            if attributes is None:
                requests.append({"DeleteRequest": {"Key": wire_key}})
                changes.append((self.model_key(drawn), None))
            else:
                item = {**copy.deepcopy(attributes), **wire_key}
                requests.append({"PutRequest": {"Item": item}})
                changes.append((self.model_key(drawn), normalise_item(item)))
        response = self.ddb.batch_write_item(RequestItems={self.table: requests})
        assert response["UnprocessedItems"] == {}
        for key, new in changes:
            self.model.write(key, new)

    @rule(ops=TRANSACT_OPS)
    @step
    def transact_write(self, ops: list[Any]) -> None:
        items: list[dict[str, Any]] = []
        outcomes: list[tuple[ItemKey, bool, Item | None]] = []  # key, condition holds, new item
        for drawn, (kind, operand, condition) in self.distinct(ops):
            key = self.model_key(drawn)
            wire_key = self.wire_key(drawn)
            action: dict[str, Any] = {"TableName": self.table, **self.condition(condition)}
            new = self.model.items.get(key)
            if kind == "Put":
                action["Item"] = {**copy.deepcopy(operand), **wire_key}
                new = normalise_item(action["Item"])
            elif kind == "Update":
                action.update(Key=wire_key, **self.update_request(operand, condition))
                new = self.updated(key, wire_key, operand)
            elif kind == "Delete":
                action["Key"] = wire_key
                new = None
            else:
                action["Key"] = wire_key
            items.append({kind: action})
            outcomes.append((key, self.passes(key, condition), new))

        def call() -> Any:
            return self.ddb.transact_write_items(TransactItems=items)

        if all(holds for _, holds, _ in outcomes):
            call()
            for key, _, new in outcomes:
                self.model.write(key, new)
            return
        # Cancelled: nothing is written, so no record either.
        codes = ["None" if holds else "ConditionalCheckFailed" for _, holds, _ in outcomes]
        (code, message), response = error_of(call)
        assert code == "TransactionCanceledException"
        assert message == (
            "Transaction cancelled, please refer cancellation reasons for specific reasons "
            f"[{', '.join(codes)}]"
        )
        assert [r["Code"] for r in response["CancellationReasons"]] == codes

    # --- the final check -------------------------------------------------------------------------

    def teardown(self) -> None:
        if not self.created:
            return
        try:
            if self.clean:
                self.check_table()
                for stream in self.model.streams:
                    self.check_stream(stream)
        finally:
            self.ddb.delete_table(TableName=self.table)

    def check_table(self) -> None:
        table = self.ddb.describe_table(TableName=self.table)["Table"]
        active = self.model.active
        if active is None:
            assert "StreamSpecification" not in table
        else:
            assert table["StreamSpecification"] == {
                "StreamEnabled": True,
                "StreamViewType": active.view_type,
            }
        if self.model.streams:
            assert table["LatestStreamArn"] == self.model.streams[-1].arn
        else:
            assert "LatestStreamArn" not in table
        # The data the records describe: the table holds exactly the model's items.
        scanned = self.ddb.scan(TableName=self.table, ConsistentRead=True)["Items"]
        assert {self.model.key_of(i): image_of(i) for i in scanned} == self.model.items
        # Every stream the table ever had, newest first.
        listed = self.streams.list_streams(TableName=self.table)
        assert "LastEvaluatedStreamArn" not in listed
        assert [s["StreamArn"] for s in listed["Streams"]] == [
            s.arn for s in reversed(self.model.streams)
        ]

    def check_stream(self, stream: ExpectedStream) -> None:
        desc = self.streams.describe_stream(StreamArn=stream.arn)["StreamDescription"]
        assert "LastEvaluatedShardId" not in desc
        assert desc["StreamStatus"] == ("ENABLED" if stream.enabled else "DISABLED")
        assert desc["StreamViewType"] == stream.view_type
        assert desc["TableName"] == self.table
        assert [k["AttributeName"] for k in desc["KeySchema"]] == list(self.model.key_names)
        shards = desc["Shards"]
        # No rotation in this machine: the stream's first shards, all closed once disabled.
        assert len(shards) == SHARDS
        assert all("ParentShardId" not in s for s in shards)
        ranges = [s["SequenceNumberRange"] for s in shards]
        assert all(("EndingSequenceNumber" in r) != stream.enabled for r in ranges), shards

        got: dict[ItemKey, list[dict[str, Any]]] = {}
        owner: dict[ItemKey, str] = {}
        event_ids: set[str] = set()
        for shard in sorted(shards, key=lambda s: s["ShardId"]):
            records = self.read_shard(stream.arn, shard["ShardId"], closed=not stream.enabled)
            numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
            assert all(a < b for a, b in itertools.pairwise(numbers)), numbers
            # StartingSequenceNumber is the first number the shard may use; a closed shard ends
            # at its last record (or at its start when it never had one).
            seq_range = shard["SequenceNumberRange"]
            start = int(seq_range["StartingSequenceNumber"])
            assert all(n >= start for n in numbers), (start, numbers)
            if "EndingSequenceNumber" in seq_range:
                assert int(seq_range["EndingSequenceNumber"]) == max(numbers, default=start)
            # Records are stored: a second read returns the same ones (eventIDs included).
            again = self.read_shard(stream.arn, shard["ShardId"], closed=not stream.enabled)
            assert again == records
            for record in records:
                self.check_envelope(record, stream.view_type)
                assert record["eventID"] not in event_ids
                event_ids.add(record["eventID"])
                key = self.model.key_of(record["dynamodb"]["Keys"])
                # A key's records all live in one shard (its partition key's hash bucket).
                assert owner.setdefault(key, shard["ShardId"]) == shard["ShardId"], key
                got.setdefault(key, []).append(compact_record(record))
        assert got == stream.expected_records(self.model.key_names)

    def read_shard(self, arn: str, shard_id: str, closed: bool) -> list[dict[str, Any]]:
        """TRIM_HORIZON to the end: NextShardIterator absent (closed shard) or an empty page."""
        iterator = self.streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records: list[dict[str, Any]] = []
        for _ in range(1000):
            page = self.streams.get_records(ShardIterator=iterator)
            records.extend(page["Records"])
            if "NextShardIterator" not in page:
                return records
            if not page["Records"] and not closed:
                return records
            iterator = page["NextShardIterator"]
        raise AssertionError(f"shard {shard_id} never ended")

    @staticmethod
    def check_envelope(record: dict[str, Any], view_type: str) -> None:
        # User writes: no userIdentity, no eventSourceARN (records.md section 1).
        assert set(record) == RECORD_MEMBERS, record
        assert record["eventVersion"] == "1.1"
        assert record["eventSource"] == "aws:dynamodb"
        assert record["awsRegion"] == REGION
        ddb = record["dynamodb"]
        images = {name for name in ("NewImage", "OldImage") if name in ddb}
        assert set(ddb) == DYNAMODB_MEMBERS | images, ddb
        assert ddb["StreamViewType"] == view_type
        created = ddb["ApproximateCreationDateTime"]
        assert isinstance(created, datetime.datetime) and created.microsecond == 0


# 40 examples of up to 50 steps per table shape: about 10 s for the file (derandomized in CI).
MACHINE_SETTINGS = settings(max_examples=40, stateful_step_count=50, deadline=None)


@pytest.fixture(scope="module")
def stream_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir: Path = tmp_path_factory.mktemp("stream-machine") / "data"
    srv = start_server(data_dir, "--stream-shards", str(SHARDS))
    yield srv
    srv.stop()


@pytest.mark.parametrize("with_range", [True, False], ids=["hash-range", "hash-only"])
def test_stream_machine_records_match_model(stream_server: RunningServer, with_range: bool) -> None:
    ddb, streams = stream_server.client(), stream_server.streams()
    run_state_machine_as_test(
        lambda: StreamMachine(ddb, streams, with_range), settings=MACHINE_SETTINGS
    )


def test_canon_number_matches_dynamodb_spelling() -> None:
    # The model's own number canonicalisation (the test would be meaningless if it were wrong).
    assert [canon_number(n) for n in ("1.0", "10E-1", "1.2E2", "0.00", "-1.50", "0.2E1")] == [
        "1",
        "1",
        "120",
        "0",
        "-1.5",
        "2",
    ]

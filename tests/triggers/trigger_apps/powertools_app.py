"""Handlers written with aws-lambda-powertools as its documentation writes them: a Logger with
inject_lambda_context, the DynamoDBStreamEvent data class through @event_source, and a
BatchProcessor for DynamoDB Streams with process_partial_response.

For the tests, each also appends what it saw, as the data classes present it, to
`$RIVULET_TEST_OUT/<table>.jsonl` (values through repr, so Decimal and friends stay visible).
A record whose new image has `poison` makes record_handler raise.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="powertools-app")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _save(stream_arn: str | None, line: dict[str, Any]) -> None:
    table = str(stream_arn).split("/")[1]
    out = Path(os.environ["RIVULET_TEST_OUT"]) / f"{table}.jsonl"
    with out.open("a", encoding="utf-8") as f:
        f.write(json.dumps(line, default=repr) + "\n")


@logger.inject_lambda_context
@event_source(data_class=DynamoDBStreamEvent)
def stream_handler(event: DynamoDBStreamEvent, context: LambdaContext) -> None:
    for record in event.records:
        assert record.dynamodb is not None and record.event_name is not None
        stream = record.dynamodb
        logger.info("stream record", extra={"event_name": record.event_name.name})
        _save(
            record.event_source_arn,
            {
                "request_id": context.aws_request_id,
                "event_id": record.event_id,
                "event_name": record.event_name.name,
                "event_version": record.event_version,
                "event_source": record.event_source,
                "aws_region": record.aws_region,
                "event_source_arn": record.event_source_arn,
                "user_identity": record.user_identity,
                "keys": stream.keys,
                "new_image": stream.new_image,
                "old_image": stream.old_image,
                "sequence_number": stream.sequence_number,
                "size_bytes": stream.size_bytes,
                "stream_view_type": getattr(stream.stream_view_type, "name", None),
                "approximate_creation_date_time": stream.approximate_creation_date_time,
            },
        )


def record_handler(record: DynamoDBRecord, lambda_context: LambdaContext) -> None:
    assert record.dynamodb is not None
    image = record.dynamodb.new_image
    _save(
        record.event_source_arn,
        {
            "request_id": lambda_context.aws_request_id,
            "sk": record.dynamodb.keys["sk"],
            "sequence_number": record.dynamodb.sequence_number,
        },
    )
    logger.info(image)
    if image.get("poison"):
        raise ValueError(f"poison record {record.dynamodb.keys['sk']}")


@logger.inject_lambda_context
def batch_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    response = process_partial_response(
        event=event,
        record_handler=record_handler,
        processor=processor,
        context=context,
    )
    _save(
        event["Records"][0]["eventSourceARN"],
        {"request_id": context.aws_request_id, "response": response},
    )
    return response

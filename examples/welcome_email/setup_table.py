"""Create the Customers table (with a stream) and add the demo's customers.

    python examples/welcome_email/setup_table.py [--endpoint-url http://localhost:8000]

Alice and Carol sign up with an email address and get a welcome mail. Bob signs up without one
and adds it later: that is a MODIFY, so he gets no welcome mail.
"""

from __future__ import annotations

import argparse
from typing import Any

import boto3  # type: ignore[import-untyped]

TABLE = "Customers"


def create_table(ddb: Any) -> None:
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "CustomerId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "CustomerId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    ddb.get_waiter("table_exists").wait(TableName=TABLE)


def add_customer(ddb: Any, customer_id: str, name: str, email: str | None = None) -> None:
    item = {"CustomerId": {"S": customer_id}, "Name": {"S": name}}
    if email is not None:
        item["EmailAddress"] = {"S": email}
    ddb.put_item(TableName=TABLE, Item=item)


def set_email(ddb: Any, customer_id: str, email: str) -> None:
    ddb.update_item(
        TableName=TABLE,
        Key={"CustomerId": {"S": customer_id}},
        UpdateExpression="SET EmailAddress = :email",
        ExpressionAttributeValues={":email": {"S": email}},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", default="http://localhost:8000")
    args = parser.parse_args()
    # Rivulet takes any credentials; explicit ones keep the script off your AWS profile.
    ddb = boto3.client(
        "dynamodb",
        endpoint_url=args.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    create_table(ddb)
    add_customer(ddb, "c-1", "Alice", "alice@example.com")
    add_customer(ddb, "c-2", "Bob")
    add_customer(ddb, "c-3", "Carol", "carol@example.com")
    set_email(ddb, "c-2", "bob@example.com")
    print(f"Created {TABLE} and added 3 customers: welcome mails go to Alice and Carol.")


if __name__ == "__main__":
    main()

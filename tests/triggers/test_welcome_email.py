"""examples/welcome_email end to end: its triggers.toml, handler and setup script against a live
server and a real SMTP server; each new customer with an address gets one welcome mail."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from conftest import RunningServer, free_port, start_server

from triggers.trigger_helpers import settle, status, wait_for

EXAMPLE = Path(__file__).parents[2] / "examples" / "welcome_email"
TRIGGER = "welcome-email"
BOUNCE = "@bounce.example"


class Mailbox:
    """An aiosmtpd handler that keeps every message and refuses recipients at bounce.example."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.endswith(BOUNCE):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        with self._lock:
            self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def received(self) -> list[tuple[list[str], str, str, str, str]]:
        """(envelope recipients, From, To, Subject, body) of each message, sorted."""
        with self._lock:
            messages = list(self.messages)
        # 7bit text/plain: the payload is the body as sent.
        return sorted(
            (rcpt, m["From"], m["To"], m["Subject"], str(m.get_payload())) for rcpt, m in messages
        )


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def welcome_server(
    tmp_path_factory: pytest.TempPathFactory, mailbox: tuple[Mailbox, int]
) -> Iterator[RunningServer]:
    """The server as the README starts it, with the SMTP port of the test's mail server."""
    tmp = tmp_path_factory.mktemp("welcome")
    text = (EXAMPLE / "triggers.toml").read_text()
    assert text.count('SMTP_PORT = "8025"') == 1
    config = tmp / "triggers.toml"
    config.write_text(text.replace('SMTP_PORT = "8025"', f'SMTP_PORT = "{mailbox[1]}"'))
    # One stream shard: the records of one batch are in write order (a bounce before others).
    server = start_server(
        tmp / "data",
        "--config",
        str(config),
        "--stream-shards",
        "1",
        env={"PYTHONPATH": str(EXAMPLE)},
    )
    yield server
    server.stop()


def mail(address: str, name: str) -> tuple[list[str], str, str, str, str]:
    body = f"Hello {name},\r\n\r\nthank you for signing up. We are glad to have you.\r\n"  # SMTP's CRLF
    return [address], "welcome@example.com", address, f"Welcome, {name}!", body


def put(customer_id: str, name: str, email: str | None = None) -> dict[str, Any]:
    item = {"CustomerId": {"S": customer_id}, "Name": {"S": name}}
    if email is not None:
        item["EmailAddress"] = {"S": email}
    return {"PutRequest": {"Item": item}}


def test_new_customers_with_an_address_get_one_welcome_mail(
    welcome_server: RunningServer, mailbox: tuple[Mailbox, int]
) -> None:
    box, _port = mailbox
    server = welcome_server
    # The README's second command: the table, Alice, Bob (no address, then one), Carol.
    setup = subprocess.run(
        [sys.executable, str(EXAMPLE / "setup_table.py"), "--endpoint-url", server.url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (setup.returncode, setup.stdout) == (
        0,
        "Created Customers and added 3 customers: welcome mails go to Alice and Carol.\n",
    ), setup.stderr
    ddb = server.client()
    # One commit, so one batch: Dave's mail is refused; Erin, Frank (no address), Grace follow.
    ddb.batch_write_item(
        RequestItems={
            "Customers": [
                put("c-4", "Dave", f"dave{BOUNCE}"),
                put("c-5", "Erin", "erin@example.com"),
                put("c-6", "Frank"),
                put("c-7", "Grace", "grace@example.com"),
            ]
        }
    )
    ddb.delete_item(TableName="Customers", Key={"CustomerId": {"S": "c-1"}})
    # Alice, Carol, Erin and Grace mailed; Dave given up on.
    wait_for(lambda: status(server, TRIGGER)["Figures"].get("delivered") == 4, timeout=30)
    assert settle(box.received, quiet=1.0) == [
        mail("alice@example.com", "Alice"),
        mail("carol@example.com", "Carol"),
        mail("erin@example.com", "Erin"),
        mail("grace@example.com", "Grace"),
    ]
    figures = settle(lambda: status(server, TRIGGER)["Figures"])
    assert {k: v for k, v in figures.items() if k != "invocations"} == {
        "polled": 9,
        # Bob's INSERT and MODIFY, Frank, and Alice's REMOVE.
        "filtered": 4,
        "delivered": 4,
        # Dave: 1 + maximum_retry_attempts invocations, each reporting his record.
        "errors": 3,
        "retries": 2,
        "dropped": 1,
        "sent_to_destination": 1,
        "not_invoked": 0,
        # Dave and the records after him in each of the 3 failed invocations.
        "failed_invoke": 9,
    }

    # Dave's record, given up on after 1 + maximum_retry_attempts invocations.
    dlq = server.data_dir / "failed-welcome-emails.jsonl"
    (line,) = [json.loads(x) for x in dlq.read_text().splitlines()]
    failure = line["failure"]
    assert line["trigger"] == TRIGGER
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["requestContext"]["functionArn"] == (
        "arn:aws:lambda:us-east-1:000000000000:function:welcome-handler"
    )
    assert failure["responseContext"]["functionError"] is None  # reported, not raised
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
    (record,) = failure["payload"]["Records"]
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["NewImage"] == {
        "CustomerId": {"S": "c-4"},
        "Name": {"S": "Dave"},
        "EmailAddress": {"S": f"dave{BOUNCE}"},
    }

"""Send a welcome email to each new customer.

A Lambda-style handler: `handler(event, context)` gets a batch of DynamoDB stream records.
The trigger's filter (triggers.toml) lets through only INSERTs of customers that have an
EmailAddress, so every record here is a customer to welcome. The SMTP server comes from the
SMTP_HOST and SMTP_PORT environment variables.

With ReportBatchItemFailures the handler answers with the record it could not send, so the
mails already sent are not sent again when the batch is retried.
"""

from __future__ import annotations

import contextlib
import logging
import os
import smtplib
from email.message import EmailMessage
from typing import Any

SENDER = os.environ.get("MAIL_FROM", "welcome@example.com")

log = logging.getLogger("welcome")


def welcome_message(image: dict[str, Any]) -> EmailMessage:
    """The mail for a customer's item (DynamoDB JSON, as stream records carry it)."""
    name = image.get("Name", {}).get("S", "there")
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = image["EmailAddress"]["S"]
    message["Subject"] = f"Welcome, {name}!"
    message.set_content(f"Hello {name},\n\nthank you for signing up. We are glad to have you.\n")
    return message


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # No SMTP server: this raises, the whole batch fails and is retried.
    smtp = smtplib.SMTP(os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"]), timeout=10)
    try:
        for record in event["Records"]:
            try:
                smtp.send_message(welcome_message(record["dynamodb"]["NewImage"]))
            except (smtplib.SMTPException, OSError):
                log.exception("could not welcome customer %s", record["dynamodb"]["Keys"])
                # The stream is retried from this record on, with every record after it
                # (none of which has been mailed yet): report it and stop, as AWS's example does.
                sequence_number = record["dynamodb"]["SequenceNumber"]
                return {"batchItemFailures": [{"itemIdentifier": sequence_number}]}
    finally:
        # The mails handed over are on their way: a failed goodbye must not fail the batch,
        # which would send them again.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()
        smtp.close()
    return {"batchItemFailures": []}

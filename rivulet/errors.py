"""Wire errors: one class per DynamoDB `__type`, each knowing its HTTP status and prefix.

Messages are written at the raise site with DynamoDB's exact text. Error classes are named
exactly as the code botocore reads (the part of `__type` after `#`).
"""

from __future__ import annotations

from typing import Any, ClassVar

DYNAMODB = "com.amazonaws.dynamodb.v20120810#"
CORAL_SERVICE = "com.amazon.coral.service#"
CORAL_VALIDATE = "com.amazon.coral.validate#"


class DynamoError(Exception):
    """Base of every error that is sent to a client as `{"__type", "message"}`."""

    prefix: ClassVar[str] = DYNAMODB
    status: ClassVar[int] = 400
    default_message: ClassVar[str | None] = None
    # Serialization errors use "Message" (capital M) on DynamoDB.
    message_key: ClassVar[str] = "message"

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        self.message = message if message is not None else self.default_message
        self.extra = extra
        super().__init__(self.message)

    @property
    def type_name(self) -> str:
        return type(self).__name__

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"__type": self.prefix + self.type_name}
        if self.message is not None:
            out[self.message_key] = self.message
        out.update(self.extra)
        return out


class ValidationException(DynamoError):
    prefix = CORAL_VALIDATE


class SerializationException(DynamoError):
    prefix = CORAL_SERVICE
    message_key = "Message"


class UnknownOperationException(DynamoError):
    prefix = CORAL_SERVICE


class MissingAuthenticationTokenException(DynamoError):
    prefix = CORAL_SERVICE
    default_message = "Request is missing Authentication Token"


class IncompleteSignatureException(DynamoError):
    prefix = CORAL_SERVICE


class InvalidSignatureException(DynamoError):
    prefix = CORAL_SERVICE


class UnrecognizedClientException(DynamoError):
    prefix = CORAL_SERVICE


class AccessDeniedException(DynamoError):
    prefix = CORAL_SERVICE


class ResourceNotFoundException(DynamoError):
    default_message = "Requested resource not found"


class ResourceInUseException(DynamoError):
    pass


class ConditionalCheckFailedException(DynamoError):
    default_message = "The conditional request failed"


class TransactionCanceledException(DynamoError):
    pass


class TransactionConflictException(DynamoError):
    pass


class TransactionInProgressException(DynamoError):
    pass


class IdempotentParameterMismatchException(DynamoError):
    pass


class ItemCollectionSizeLimitExceededException(DynamoError):
    pass


class LimitExceededException(DynamoError):
    pass


class ProvisionedThroughputExceededException(DynamoError):
    pass


class ExpiredIteratorException(DynamoError):
    default_message = "The provided iterator exceeds the maximum age allowed."


class TrimmedDataAccessException(DynamoError):
    default_message = "The data you are trying to access has been trimmed."


LAMBDA = "com.amazonaws.lambda#"


class TriggerError(DynamoError):
    """Errors of the trigger control plane carry AWS Lambda's error codes (triggers.md 2)."""

    prefix = LAMBDA

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(message)
        self._type_name = type_name

    @property
    def type_name(self) -> str:
        return self._type_name


class InternalServerError(DynamoError):
    status = 500
    default_message = "The server encountered an internal error trying to fulfill the request."


class ConfigurationError(Exception):
    """A problem the operator must fix (bad key, unreadable data dir): reported as one line."""

"""Rivulet: a DynamoDB and DynamoDB Streams compatible database."""

__version__ = "0.1.0"

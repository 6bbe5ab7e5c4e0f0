"""Tokenizer for DynamoDB expressions, and the `Syntax error; token: ..., near: ...` message."""

from __future__ import annotations

import re
from typing import NamedTuple


class Token(NamedTuple):
    kind: str  # "name" "#" ":" "num" "eof" "bad", or the punctuation itself ("(", "<=", ...)
    text: str
    start: int
    end: int


# Whitespace is only space, tab, CR and LF; anything unknown becomes a one-character "bad" token
# so that the parser reports it as the offending token.
_TOKEN_RE = re.compile(
    r"[ \t\r\n]*(?:"
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<attr>#[A-Za-z0-9_]*)"
    r"|(?P<value>:[A-Za-z0-9_]*)"
    r"|(?P<num>[0-9]+)"
    r"|(?P<punct><>|<=|>=|[()\[\].,=<>+\-])"
    r"|(?P<bad>.)"
    r"|(?P<eof>$))",
    re.DOTALL,
)
_KIND = {"name": "name", "attr": "#", "value": ":", "num": "num", "bad": "bad", "eof": "eof"}


def tokenize(text: str) -> list[Token]:
    """All tokens of `text`, ending with an "eof" token."""
    tokens: list[Token] = []
    pos = 0
    match = _TOKEN_RE.match
    while True:
        m = match(text, pos)
        assert m is not None  # the "bad" alternative matches any character
        group = m.lastgroup
        assert group is not None
        start, end = m.span(group)
        kind = m.group(group) if group == "punct" else _KIND[group]
        tokens.append(Token(kind, text[start:end], start, end))
        if group == "eof":
            return tokens
        pos = end


def syntax_error_text(text: str, tokens: list[Token], index: int) -> str:
    """DynamoDB names the offending token and quotes the source from the token before it to the
    token after it; the end of input is the token "<EOF>"."""
    token = tokens[index]
    prev = tokens[index - 1] if index > 0 else None
    if token.kind == "eof":
        return f'Syntax error; token: "<EOF>", near: "{prev.text if prev else ""}"'
    after = tokens[index + 1]
    start = prev.start if prev else token.start
    end = after.end if after.kind != "eof" else token.end
    return f'Syntax error; token: "{token.text}", near: "{text[start:end]}"'

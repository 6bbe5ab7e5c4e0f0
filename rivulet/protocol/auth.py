"""SigV4 presence checks. Signatures are not verified yet: any well-formed SigV4 request is accepted."""

from __future__ import annotations

from urllib.parse import parse_qs

from rivulet.errors import (
    DynamoError,
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
)

_AUTH_PARAMS = ("Credential", "Signature", "SignedHeaders")
_QUERY_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
    "X-Amz-Date",
)


def check_authentication(
    authorization: str | None, has_date: bool, query_string: bytes
) -> DynamoError | None:
    """The error DynamoDB gives a request whose credentials are missing or incomplete, else None."""
    if (
        authorization is not None
        and has_date
        and not query_string
        and authorization.startswith("AWS4-")
        and "Credential=" in authorization
        and "Signature=" in authorization
        and "SignedHeaders=" in authorization
    ):
        return None  # hot path: what every SDK sends
    query = parse_qs(query_string.decode("latin-1")) if query_string else {}
    by_query = "X-Amz-Algorithm" in query
    if authorization and by_query:
        return InvalidSignatureException(
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
        )
    if (not authorization and not by_query) or (
        authorization and authorization.strip()[:5] != "AWS4-"
    ):
        return MissingAuthenticationTokenException()
    msg = ""
    if authorization:
        pairs = {}
        for part in authorization.replace(",", " ").split()[1:]:
            key, _, value = part.strip().partition("=")
            pairs[key] = value
        for name in _AUTH_PARAMS:
            if not pairs.get(name):
                msg += f"Authorization header requires '{name}' parameter. "
        if not has_date:
            msg += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        if msg:
            msg += f"Authorization={authorization}"
    else:
        for name in _QUERY_PARAMS:
            if not query.get(name):
                msg += f"AWS query-string parameters must include '{name}'. "
        if msg:
            msg += "Re-examine the query-string parameters."
    return IncompleteSignatureException(msg) if msg else None

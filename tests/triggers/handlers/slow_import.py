"""A handler module whose import outlasts the (shortened) init timeout of the tests."""

import time

time.sleep(2)


def handler(event: object, context: object) -> None:
    return None

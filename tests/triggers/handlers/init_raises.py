"""A handler module whose module-level code raises: reported like a handler error."""


def _load_settings() -> None:
    raise RuntimeError("ORDERS_TABLE is not set")


_load_settings()


def handler(event: object, context: object) -> None:
    return None

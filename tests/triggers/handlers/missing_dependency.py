"""A handler module whose import fails: Runtime.ImportModuleError."""

import rivulet_no_such_module  # noqa: F401


def handler(event: object, context: object) -> None:
    return None

"""A handler logging with aws-lambda-powertools' Logger, which reads the context: it returns the
structured log line it wrote."""

import io
import json
from typing import Any

from aws_lambda_powertools import Logger

log = io.StringIO()
logger = Logger(service="orders", stream=log)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> Any:
    logger.info("processing")
    return json.loads(log.getvalue().splitlines()[-1])

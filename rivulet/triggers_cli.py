"""`rivulet triggers ...` (manage triggers on a running server) and `rivulet worker` (run the
trigger runtime in its own process beside the server, on the same data dir)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import orjson

from rivulet.cli_options import master_key_file_option

TARGET_PREFIX = "RivuletTriggers_20261126."
# The figures `rivulet triggers status` shows, and their column titles.
STATUS_FIGURES = {
    "delivered": "Delivered",
    "invocations": "Invocations",
    "errors": "Errors",
    "retries": "Retries",
    "filtered": "Filtered",
    "sent_to_destination": "To destination",
}


class ServerClient:
    """Calls the server's trigger API, signed like any AWS JSON request."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        self.url = endpoint_url.rstrip("/") + "/"
        self.region = region

    def call(self, operation: str, body: dict[str, Any]) -> Any:
        import httpx
        from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
        from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
        from botocore.credentials import Credentials  # type: ignore[import-untyped]

        data = orjson.dumps(body)
        request = AWSRequest(
            method="POST",
            url=self.url,
            data=data,
            headers={
                "X-Amz-Target": TARGET_PREFIX + operation,
                "Content-Type": "application/x-amz-json-1.0",
            },
        )
        # A local server accepts any credentials (it checks that a request is signed).
        SigV4Auth(Credentials("rivulet", "rivulet"), "dynamodb", self.region).add_auth(request)
        try:
            response = httpx.post(
                self.url, content=data, headers=dict(request.headers), timeout=300
            )
        except httpx.HTTPError as exc:
            raise click.ClickException(f"cannot reach {self.url}: {exc}") from exc
        payload = orjson.loads(response.content) if response.content else {}
        if response.status_code != 200:
            kind = str(payload.get("__type", "Error")).rpartition("#")[2]
            raise click.ClickException(f"{kind}: {payload.get('message', response.text)}")
        return payload


def _client_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--endpoint-url",
        default="http://127.0.0.1:8000",
        show_default=True,
        envvar="RIVULET_ENDPOINT",
        help="The running server (env RIVULET_ENDPOINT).",
    )(f)
    return click.option(
        "--region", default="us-east-1", show_default=True, help="Region to sign for."
    )(f)


def _settings_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """One option per trigger setting; only the options given are sent."""
    options = [
        click.option("--table", help="Table whose stream the trigger reads."),
        click.option("--event-source-arn", help="A stream ARN, instead of --table."),
        click.option("--function", help="pkg.module:handler, http(s)://url or 'exec:COMMAND ...'."),
        click.option("--batch-size", type=int),
        click.option("--maximum-batching-window-in-seconds", type=int),
        click.option("--starting-position", type=str, help="TRIM_HORIZON or LATEST."),
        click.option("--parallelization-factor", type=int),
        click.option(
            "--bisect-batch-on-function-error/--no-bisect-batch-on-function-error", default=None
        ),
        click.option("--maximum-retry-attempts", type=int),
        click.option("--maximum-record-age-in-seconds", type=int),
        click.option(
            "--report-batch-item-failures/--no-report-batch-item-failures",
            default=None,
            help="FunctionResponseTypes [ReportBatchItemFailures].",
        ),
        click.option(
            "--filter",
            "filters",
            multiple=True,
            help='A filter pattern (JSON), e.g. \'{"eventName": ["INSERT"]}\'; repeatable.',
        ),
        click.option("--tumbling-window-in-seconds", type=int),
        click.option("--on-failure", help="On-failure destination (table ARN, file:PATH, URL)."),
        click.option("--enabled/--disabled", default=None),
        click.option("--function-timeout", type=float, help="Seconds (default 3)."),
        click.option("--function-isolation", type=click.Choice(["in-process", "subprocess"])),
        click.option("--env", "env", multiple=True, help="KEY=VALUE for the function; repeatable."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _settings(given: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    filters = given.pop("filters", ())
    env = given.pop("env", ())
    report = given.pop("report_batch_item_failures", None)
    on_failure = given.pop("on_failure", None)
    for key, value in given.items():
        if value is not None:
            out[key] = value
    if filters:
        out["filter_criteria"] = {"Filters": [{"Pattern": p} for p in filters]}
    if env:
        pairs = [e.partition("=") for e in env]
        if any(not sep for _, sep, _ in pairs):
            raise click.BadParameter("expected KEY=VALUE", param_hint="--env")
        out["environment"] = {k: v for k, _, v in pairs}
    if report is not None:
        out["function_response_types"] = ["ReportBatchItemFailures"] if report else []
    if on_failure is not None:
        out["destination_config"] = {"OnFailure": {"Destination": on_failure}}
    return out


def _show(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=False))


def _print_table(columns: tuple[str, ...], rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns)
    for row in rows:
        table.add_row(*row)
    console = Console()
    if not console.is_terminal:
        # Piped into a file or grep: every value whole on one line, not cut to 80 columns.
        wide = console.options.update_width(sys.maxsize)
        console = Console(width=console.measure(table, options=wide).maximum)
    console.print(table)


@click.group()
def triggers() -> None:
    """Manage the triggers of a running server."""


@triggers.command()
@click.argument("name")
@_settings_options
@_client_options
def create(name: str, endpoint_url: str, region: str, **given: Any) -> None:
    """Create trigger NAME (needs --table or --event-source-arn, --function, --starting-position)."""
    settings = {"name": name, **_settings(given)}
    _show(ServerClient(endpoint_url, region).call("CreateTrigger", {"Settings": settings}))


@triggers.command()
@click.argument("name")
@_settings_options
@_client_options
def update(name: str, endpoint_url: str, region: str, **given: Any) -> None:
    """Change settings of trigger NAME; its checkpoints are kept."""
    settings = _settings(given)
    body = {"Name": name, "Settings": settings}
    _show(ServerClient(endpoint_url, region).call("UpdateTrigger", body))


def _named(operation: str, doc: str) -> click.Command:
    @click.argument("name")
    @_client_options
    def command(name: str, endpoint_url: str, region: str) -> None:
        _show(ServerClient(endpoint_url, region).call(operation, {"Name": name}))

    command.__doc__ = doc
    return click.command()(command)


triggers.add_command(_named("GetTrigger", "Show trigger NAME (AWS's mapping shape)."), "get")
triggers.add_command(_named("DeleteTrigger", "Delete trigger NAME and its checkpoints."), "delete")
triggers.add_command(
    _named("EnableTrigger", "Enable trigger NAME: it resumes from its checkpoints."), "enable"
)
triggers.add_command(
    _named("DisableTrigger", "Disable trigger NAME (checkpoints kept)."), "disable"
)


@triggers.command("list")
@click.option("--json", "as_json", is_flag=True, help="The full descriptions as JSON.")
@_client_options
def list_(as_json: bool, endpoint_url: str, region: str) -> None:
    """List triggers."""
    found = ServerClient(endpoint_url, region).call("ListTriggers", {})["Triggers"]
    if as_json:
        _show(found)
        return
    rows = [
        [
            t["Rivulet"]["Name"],
            t["State"],
            t["Rivulet"].get("Table") or t.get("EventSourceArn", ""),
            t["Rivulet"]["Function"],
            t["LastProcessingResult"],
        ]
        for t in found
    ]
    _print_table(("Name", "State", "Source", "Function", "Last result"), rows)


@triggers.command()
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@_client_options
def status(as_json: bool, endpoint_url: str, region: str) -> None:
    """Per trigger: state, last result, iterator age and delivery figures."""
    found = ServerClient(endpoint_url, region).call("TriggerStatus", {})["Triggers"]
    if as_json:
        _show(found)
        return
    rows = []
    for t in found:
        f = t["Figures"]
        age = t["IteratorAgeMilliseconds"]
        rows.append(
            [
                t["Name"],
                t["State"],
                t["LastProcessingResult"],
                "-" if age is None else f"{age} ms",
                *(str(f[k]) for k in STATUS_FIGURES),
            ]
        )
    columns = ("Name", "State", "Last result", "Iterator age")
    _print_table(columns + tuple(STATUS_FIGURES.values()), rows)


@triggers.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Every failed batch in full, as JSON.")
@_client_options
def failed(name: str, as_json: bool, endpoint_url: str, region: str) -> None:
    """List the failed batches of trigger NAME kept by its on-failure destination."""
    batches = ServerClient(endpoint_url, region).call("ListFailedBatches", {"Name": name})
    batches = batches["FailedBatches"]
    if as_json:
        _show(batches)
        return
    for b in batches:
        info = b["DDBStreamBatchInfo"]
        context = b["requestContext"]
        click.echo(
            f"{b['Id']}  {b['timestamp']}  {context['condition']}  "
            f"invocations={context['approximateInvokeCount']}  shard={info['shardId']}  "
            f"records={info['batchSize']}  {info['startSequenceNumber']}..{info['endSequenceNumber']}"
        )
    if not batches:
        click.echo(f"no failed batches for {name}", err=True)


@triggers.command()
@click.argument("name")
@_client_options
def redrive(name: str, endpoint_url: str, region: str) -> None:
    """Invoke the failed batches of trigger NAME again and remove those that succeed. Exit
    status 1 when some still fail."""
    result = ServerClient(endpoint_url, region).call("RedriveFailedBatches", {"Name": name})
    _show(result)
    if result["Errors"]:
        sys.exit(1)


@click.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    envvar="RIVULET_CONFIG",
    help="TOML file of [[triggers]] to apply before starting (as `rivulet serve --config`).",
)
@click.option(
    "--data-dir",
    default="rivulet-data",
    show_default=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    envvar="RIVULET_DATA_DIR",
    help="The server's data directory.",
)
@click.option(
    "--endpoint-url",
    default="http://127.0.0.1:8000",
    show_default=True,
    envvar="RIVULET_ENDPOINT",
    help="The server, for dead-letter table writes (and AWS_ENDPOINT_URL of functions).",
)
@click.option("--region", default="us-east-1", show_default=True, envvar="RIVULET_REGION")
@master_key_file_option(
    "The server's master key, to open stream records (else RIVULET_MASTER_KEY, else "
    "<data-dir>/master.key)."
)
@click.option(
    "--lease-ttl",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="Seconds after which a dead worker's shards are taken over.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
def worker(
    config_file: Path | None,
    data_dir: Path,
    endpoint_url: str,
    region: str,
    master_key_file: Path | None,
    lease_ttl: float,
    log_level: str,
) -> None:
    """Run the trigger runtime beside `rivulet serve`, on the same data dir. Per-shard leases in
    the database keep workers (and the server) off each other's shards."""
    import asyncio
    import contextlib
    import logging
    import os

    from rivulet.cli_options import import_from_cwd
    from rivulet.triggers.worker import run_worker

    import_from_cwd()

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        code = asyncio.run(
            run_worker(
                data_dir=data_dir,
                config_file=config_file,
                endpoint_url=endpoint_url,
                region=region,
                lease_ttl=lease_ttl,
                master_key_file=master_key_file,
                master_key=os.environ.get("RIVULET_MASTER_KEY"),
            )
        )
        sys.exit(code)

"""`GET /metrics`: the trigger figures in Prometheus format (prometheus-client).

The figures come from the database, where every runtime (the server's and each `rivulet worker`)
adds them with its checkpoints, so one scrape of the server shows the whole deployment. Names keep
the meanings of Lambda's metrics (triggers.md 14).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from rivulet.triggers.admin import TriggerAdmin

# generate_latest writes the 0.0.4 text format (CONTENT_TYPE_LATEST now names 1.0.0).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4.encode()

# (figure, metric name, help)
COUNTERS = (
    ("invocations", "rivulet_trigger_invocations", "Function invocations, retries included"),
    ("errors", "rivulet_trigger_invocation_errors", "Failed invocations (function errors)"),
    ("retries", "rivulet_trigger_retries", "Invocations retried after a function error"),
    ("not_invoked", "rivulet_trigger_not_invoked", "Attempts that could not reach the function"),
)
EVENTS = (
    ("polled", "polled"),
    ("filtered", "filtered_out"),
    ("delivered", "invoked"),
    ("failed_invoke", "failed_invoke"),
    ("dropped", "dropped"),
    ("sent_to_destination", "on_failure_delivered"),
)


class TriggerCollector(Collector):
    def __init__(self, admin: Callable[[], TriggerAdmin | None]) -> None:
        self._admin = admin

    def collect(self) -> Iterator[Metric]:
        admin = self._admin()
        rows = [] if admin is None else admin.status()
        labels = ["trigger", "function"]
        events = CounterMetricFamily(
            "rivulet_trigger_events",
            "Stream records by outcome (Lambda's EventCount metrics)",
            labels=[*labels, "outcome"],
        )
        counters = {
            figure: CounterMetricFamily(name, text, labels=labels)
            for figure, name, text in COUNTERS
        }
        age = GaugeMetricFamily(
            "rivulet_trigger_iterator_age_milliseconds",
            "Age of the last record of the last finished batch (Lambda's IteratorAge)",
            labels=labels,
        )
        enabled = GaugeMetricFamily(
            "rivulet_trigger_enabled", "1 while the trigger is enabled", labels=labels
        )
        for row in rows:
            values = [row["Name"], row["Function"]]
            figures = row["Figures"]
            for figure, outcome in EVENTS:
                events.add_metric([*values, outcome], figures[figure])
            for figure, family in counters.items():
                family.add_metric(values, figures[figure])
            if row["IteratorAgeMilliseconds"] is not None:
                age.add_metric(values, row["IteratorAgeMilliseconds"])
            enabled.add_metric(values, 1 if row["State"] == "Enabled" else 0)
        yield events
        yield from counters.values()
        yield age
        yield enabled


def metrics_page(
    admin: Callable[[], TriggerAdmin | None],
) -> Callable[[], Awaitable[tuple[bytes, bytes]]]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TriggerCollector(admin))

    async def page() -> tuple[bytes, bytes]:
        return CONTENT_TYPE, generate_latest(registry)

    return page

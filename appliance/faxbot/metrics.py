"""The appliance's Prometheus series: one registry per appliance (several appliances may run in
one process: the tests start many), the series it holds, and the small recorders the other
modules are given by the composition root (server/lifecycle.py) to move them.

No label value is ever a phone number, a job or fax id, a key or a provider's id: labels are
route templates, methods, status codes, plugin ids, outcomes and sweep names, all from small
fixed sets (an unknown route is `unmatched`, not its path)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # Prometheus text format 0.0.4
UNMATCHED = "unmatched"  # the route label of a request no route answered
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_PARAMETER_TYPE = re.compile(r":\w+}")  # Litestar's /fax/{job_id:str} is /fax/{job_id}

# Request latency: an API call on loopback takes about a millisecond; an upload several.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A hand-over is an HTTP call to a provider with a document: tenths of a second to a minute.
HAND_OVER_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
SWEEP_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0)


@dataclass(frozen=True)
class Series:
    """One series as documented: its name (as scraped), type, labels and meaning."""

    name: str
    type: str
    labels: tuple[str, ...]
    help: str


SERIES: tuple[Series, ...] = (
    Series(
        "faxbot_http_requests_total",
        "counter",
        ("route", "method", "status"),
        "HTTP requests answered, by route template, method and status code.",
    ),
    Series(
        "faxbot_http_request_duration_seconds",
        "histogram",
        ("route", "method"),
        "Time to answer an HTTP request, by route template and method.",
    ),
    Series(
        "faxbot_jobs",
        "gauge",
        ("phase",),
        "Jobs in the database by phase (queued, handing_over, sent, done), read at scrape time.",
    ),
    Series(
        "faxbot_hand_over_duration_seconds",
        "histogram",
        ("plugin",),
        "Time the outbound plugin took to accept a fax (send), successful or not.",
    ),
    Series(
        "faxbot_provider_errors_total",
        "counter",
        ("plugin", "step"),
        "Transport errors of the outbound plugin, by step (send, status, find_sent).",
    ),
    Series(
        "faxbot_webhook_requests_total",
        "counter",
        ("plugin", "outcome"),
        "Webhook requests by plugin: accepted (verified) or rejected (no plugin instance "
        "accepted its signature).",
    ),
    Series(
        "faxbot_webhook_events_total",
        "counter",
        ("plugin", "result"),
        "Events of accepted webhooks by plugin and result (status reports: applied, unchanged, "
        "duplicate, unknown; received faxes: received, received_duplicate, ignored).",
    ),
    Series(
        "faxbot_inbound_faxes_total",
        "counter",
        ("plugin",),
        "Received faxes stored (a duplicate delivery is not counted again).",
    ),
    Series(
        "faxbot_leases_held",
        "gauge",
        (),
        "Jobs this replica holds a lease on (several replicas on PostgreSQL; 0 on SQLite), as "
        "of its last heartbeat.",
    ),
    Series(
        "faxbot_sweep_duration_seconds",
        "histogram",
        ("sweep",),
        "Time one pass of a periodic sweep took (dispatch, orphans, retention); a pass another "
        "replica was doing is skipped, not timed.",
    ),
)
_SERIES = {s.name: s for s in SERIES}


def _help(name: str) -> str:
    return _SERIES[name].help


def _labels(name: str) -> tuple[str, ...]:
    return _SERIES[name].labels


def _base(name: str) -> str:
    """prometheus_client adds the _total of a counter itself."""
    return name.removesuffix("_total")


class HttpRecorder:
    """Given to the request log: one call per answered request."""

    def __init__(self, requests: Counter, seconds: Histogram) -> None:
        self._requests = requests
        self._seconds = seconds
        # (route, method, status) -> its two children: labels() costs more than inc()
        self._children: dict[tuple[str | None, str, int], tuple[Counter, Histogram]] = {}

    def request(self, route: str | None, method: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "OTHER"  # the client's text otherwise
        children = self._children.get((route, method, status))
        if children is None:
            template = _PARAMETER_TYPE.sub("}", route) if route else UNMATCHED
            children = self._children[(route, method, status)] = (
                self._requests.labels(template, method, str(status)),
                self._seconds.labels(template, method),
            )
        children[0].inc()
        children[1].observe(seconds)


class DispatchRecorder:
    """Given to the dispatcher, bound to the outbound plugin's id."""

    def __init__(self, plugin: str, hand_over: Histogram, errors: Counter, leases: Gauge) -> None:
        self._leases = leases
        self._hand_over = hand_over.labels(plugin)
        self._errors = {
            step: errors.labels(plugin, step) for step in ("send", "status", "find_sent")
        }

    def hand_over(self, seconds: float) -> None:
        self._hand_over.observe(seconds)

    def provider_error(self, step: str) -> None:
        self._errors[step].inc()

    def leases_held(self, count: int) -> None:
        self._leases.set(count)


class WebhookRecorder:
    """Given to the webhook service."""

    def __init__(self, requests: Counter, events: Counter, inbound: Counter) -> None:
        self._requests = requests
        self._events = events
        self._inbound = inbound

    def accepted(self, plugin: str) -> None:
        self._requests.labels(plugin, "accepted").inc()

    def rejected(self, plugin: str) -> None:
        self._requests.labels(plugin, "rejected").inc()

    def event(self, plugin: str, result: str) -> None:
        self._events.labels(plugin, result).inc()
        if result == "received":
            self._inbound.labels(plugin).inc()


class SweepRecorder:
    """Given to a periodic sweep, bound to its name: `with recorder.timed(): one pass`."""

    def __init__(self, seconds: Histogram) -> None:
        self._seconds = seconds

    @contextmanager
    def timed(self) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self._seconds.observe(time.perf_counter() - began)


class _JobsByPhase(Collector):
    """The jobs gauge, read from the store when scraped (one GROUP BY on the indexed phase)."""

    def __init__(self) -> None:
        self.count: Callable[[], Mapping[str, int]] | None = None

    def describe(self) -> list[Metric]:
        return [GaugeMetricFamily("faxbot_jobs", _help("faxbot_jobs"), labels=["phase"])]

    def collect(self) -> list[Metric]:
        family = GaugeMetricFamily("faxbot_jobs", _help("faxbot_jobs"), labels=["phase"])
        if self.count is not None:
            for phase, n in sorted(self.count().items()):
                family.add_metric([phase], n)
        return [family]


class Metrics:
    """The registry of one appliance and its series."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry

        def counter(name: str) -> Counter:
            return Counter(_base(name), _help(name), _labels(name), registry=r)

        def histogram(name: str, buckets: tuple[float, ...]) -> Histogram:
            return Histogram(name, _help(name), _labels(name), registry=r, buckets=buckets)

        self.http = HttpRecorder(
            counter("faxbot_http_requests_total"),
            histogram("faxbot_http_request_duration_seconds", REQUEST_BUCKETS),
        )
        self._hand_over = histogram("faxbot_hand_over_duration_seconds", HAND_OVER_BUCKETS)
        self._provider_errors = counter("faxbot_provider_errors_total")
        self.webhooks = WebhookRecorder(
            counter("faxbot_webhook_requests_total"),
            counter("faxbot_webhook_events_total"),
            counter("faxbot_inbound_faxes_total"),
        )
        self._sweeps = histogram("faxbot_sweep_duration_seconds", SWEEP_BUCKETS)
        self._leases = Gauge("faxbot_leases_held", _help("faxbot_leases_held"), registry=r)
        self._jobs = _JobsByPhase()
        r.register(self._jobs)

    def dispatch(self, plugin: str) -> DispatchRecorder:
        return DispatchRecorder(plugin, self._hand_over, self._provider_errors, self._leases)

    def sweep(self, name: str) -> SweepRecorder:
        return SweepRecorder(self._sweeps.labels(name))

    def count_jobs(self, count: Callable[[], Mapping[str, int]]) -> None:
        """Where the jobs gauge reads its counts from (the job store, once it is open)."""
        self._jobs.count = count

    def render(self) -> bytes:
        """The text format; blocking (the jobs gauge reads the database): run it in a thread."""
        return generate_latest(self.registry)

"""Prometheus metrics: request counts and latency. Under gunicorn, worker processes share a
multiprocess directory so /metrics reports the whole server.

/metrics is public (the load balancer and the monitoring system read it), so by default it
says nothing per route: a route's counts tell an outsider which features exist and how much
each is used (OWASP API9, inventory). With POPDB_METRICS_PER_ROUTE=1, where /metrics is
only reachable from the monitoring network, the route template is a label (never the raw
path, which can carry a personal ID number)."""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from popdb.core import replicas
from popdb.core.settings import Settings

REQUESTS = Counter(
    "popdb_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "popdb_http_request_seconds",
    "Time to answer a request",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


#: the `route` label of every sample when per-route detail is off
ALL_ROUTES = "*"


def init_app(app: Flask, *, per_route: bool = False) -> None:
    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        if not per_route:
            route = ALL_ROUTES
        else:
            route = request.url_rule.rule if request.url_rule else "<unmatched>"
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        if "started" in g:
            LATENCY.labels(request.method, route).observe(time.perf_counter() - g.started)
        return response


def _replica_gauges(settings: Settings) -> bytes:
    """popdb_replica_lag_seconds and popdb_replica_up per replica, as this process last
    measured them (popdb/core/replicas.py); nothing when no replica is configured. Computed
    at scrape time, so they need no multiprocess files."""
    if not replicas.configured(settings):
        return b""
    states = replicas.router(settings).states()
    lag = GaugeMetricFamily(
        "popdb_replica_lag_seconds",
        "How far a read replica is behind the primary",
        labels=["replica"],
    )
    up = GaugeMetricFamily("popdb_replica_up",
                           "1 when reads may use the replica (healthy and within the lag limit)",
                           labels=["replica"])  # fmt: skip
    limit = replicas.router(settings).max_lag_s
    for s in states:
        lag.add_metric([s.name], s.lag_s if s.lag_s is not None else float("nan"))
        up.add_metric([s.name], 1.0 if s.usable(limit) else 0.0)

    class _Once:
        def collect(self) -> list[GaugeMetricFamily]:
            return [lag, up]

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Once())
    return generate_latest(registry)


def render(settings: Settings | None = None) -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        payload = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        payload = generate_latest(REGISTRY)
    if settings is not None:
        payload += _replica_gauges(settings)
    return Response(payload, mimetype=CONTENT_TYPE_LATEST)

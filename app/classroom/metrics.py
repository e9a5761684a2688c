"""Prometheus metrics of one server: open sessions, kernels by state, request latencies, kernel
kills by reason, rooms, and the classroom's own refusals. One registry per app, so tests can
build many apps in one process."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.supervisor import Kernel, Supervisor

# The `_created` series only double what scrapers already know.
disable_created_metrics()  # type: ignore[no-untyped-call]
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class KernelStates(Collector):
    """Read at scrape time from the supervisor: nothing to keep in step."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("descent_kernels", "Session kernels by state.", labels=["state"])
        live = [k for k in self.supervisor.live if not k.dead]
        busy = sum(1 for k in live if k.busy)
        family.add_metric(["busy"], busy)
        family.add_metric(["idle"], len(live) - busy)
        family.add_metric(["starting"], self.supervisor.starting)
        yield family


class Metrics:
    def __init__(self, supervisor: Supervisor, sessions: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.registry.register(KernelStates(supervisor))
        self.sessions = Gauge("descent_sessions", "Open lesson pages (WebSockets).", registry=r)
        self.sessions.set_function(lambda: float(sessions()))
        self.latency = Histogram(
            "descent_http_request_duration_seconds",
            "Time to answer an HTTP request, by route.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.kills = Counter(
            "descent_kernel_kills", "Kernels that ended, by reason.", ["reason"], registry=r
        )
        self.rooms = Gauge("descent_rooms", "Rooms, by state.", ["state"], registry=r)
        self.refused = Counter(
            "descent_socket_refusals",
            "Lesson WebSockets refused, by reason.",
            ["reason"],
            registry=r,
        )
        self.limited = Counter(
            "descent_runs_rate_limited", "Runs and checks refused by the rate limit.", registry=r
        )
        self.saves = Counter(
            "descent_saves", "Saves of a learner's cell, by result.", ["result"], registry=r
        )
        self.landscape = Counter(
            "descent_landscape_updates", "Class landscape snapshots sent to teachers.", registry=r
        )


class KillTracker:
    """Counts each kernel's end once, with the supervisor's reason for it. The supervisor has no
    hook for a kernel's death, so kernels are noted when seen and swept for `dead` regularly."""

    def __init__(self, supervisor: Supervisor, metrics: Metrics) -> None:
        self.supervisor, self.metrics = supervisor, metrics
        self.seen: set[Kernel] = set()

    def note(self, kernel: Kernel | None) -> None:
        if kernel is not None:
            self.seen.add(kernel)

    def sweep(self) -> None:
        self.seen |= self.supervisor.live
        for kernel in [k for k in self.seen if k.dead]:
            self.metrics.kills.labels(kernel.dead.reason if kernel.dead else "unknown").inc()
            self.seen.discard(kernel)


class RequestTimer:
    """ASGI middleware timing every HTTP request by its route's template, not its raw path."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.latency.labels(scope.get("method", ""), route, str(status)).observe(
                time.perf_counter() - start
            )

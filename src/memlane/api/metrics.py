"""Prometheus metrics at /metrics: requests by route and status, their latency, model
inference calls and seconds (LLM generations with time to first text and tokens), jobs by
status and memories stored. One registry per app."""
from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics import Counter, Histogram

from .deps import AdminUser

router = APIRouter(tags=["health"])
access = logging.getLogger("memlane.access")
QUIET = ("/api/health", "/metrics")  # polled by orchestrators: logged at DEBUG


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("memlane_requests", "HTTP requests and WebSocket sessions",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("memlane_request_seconds", "Time to serve a request",
                                 ["method", "route"], registry=self.registry)
        self.state: dict = {}
        self.registry.register(_Snapshot(self))


class _Snapshot:
    """What the engine says at scrape time (refreshed by the /metrics route)."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def collect(self):
        state = self.metrics.state
        jobs = GaugeMetricFamily("memlane_jobs", "Background jobs by status", labels=["status"])
        for status, n in state.get("jobs", {}).items():
            jobs.add_metric([status], n)
        yield jobs
        yield GaugeMetricFamily("memlane_memories", "Memories stored (all users)",
                                value=state.get("memories", 0))
        calls = CounterMetricFamily("memlane_model_calls", "Model inference calls",
                                    labels=["model"])
        seconds = CounterMetricFamily("memlane_model_seconds", "Model inference time",
                                      labels=["model"])
        for tally in state.get("tallies", []):
            for name, n in tally.calls.items():
                calls.add_metric([name], n)
                seconds.add_metric([name], tally.seconds[name])
        yield calls
        yield seconds
        yield from _llm(state.get("llm"))


def _llm(meter):
    """The LLM's generations: their number, time, time to first text and tokens."""
    if meter is None:
        return
    yield CounterMetricFamily("memlane_llm_generations", "LLM generations",
                              value=meter.generations)
    yield CounterMetricFamily("memlane_llm_seconds", "Time spent generating",
                              value=meter.seconds)
    yield CounterMetricFamily("memlane_llm_first_token_seconds",
                              "Time from each generation's start to its first text",
                              value=meter.first_token_seconds)
    tokens = CounterMetricFamily("memlane_llm_tokens", "Tokens by kind", labels=["kind"])
    tokens.add_metric(["prompt"], meter.prompt_tokens)
    tokens.add_metric(["completion"], meter.completion_tokens)
    yield tokens


class Instrument:
    """Counts, times and logs every request by its route template: never its raw path or
    query, which may hold ids or text the user typed."""

    def __init__(self, app, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), [101 if scope["type"] == "websocket" else 500]

        async def watch(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = _template(scope)
            method = scope.get("method", "WS")
            seconds = time.perf_counter() - start
            self.metrics.requests.labels(method, route, str(status[0])).inc()
            self.metrics.latency.labels(method, route).observe(seconds)
            level = logging.DEBUG if route.startswith(QUIET) else logging.INFO
            access.log(level, "%s %s %s %.1fms", method, route, status[0], seconds * 1000)


def _template(scope) -> str:
    """The matched route's full path template, e.g. /api/memories/{memory_id} (FastAPI
    keeps it in its effective route context; a plain route's own path otherwise)."""
    effective = (scope.get("fastapi") or {}).get("effective_route_context")
    path = getattr(effective, "path_format", None) or getattr(scope.get("route"), "path", None)
    return path or "unmatched"


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            description="In multi-user mode, for an admin's key or token only (Prometheus: "
                        "`authorization: {credentials: ...}`).")
async def metrics(request: Request, _: AdminUser) -> Response:
    engine, collected = request.app.state.engine, request.app.state.metrics
    collected.state = {
        "jobs": await engine.jobs.counts(), "memories": await engine.store.memory_count(),
        "tallies": [engine.models.tally, *([engine.voice.tally] if engine.voice else [])],
        "llm": engine.llm.meter}
    return Response(generate_latest(collected.registry), media_type=CONTENT_TYPE_LATEST)

"""Prometheus metrics, in a registry of the app's own (nothing global at import)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "sdehub_requests",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "sdehub_request_seconds",
            "HTTP request latency by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.ingest = Histogram(
            "sdehub_ingest_seconds",
            "Time from receiving SDEs to their durable acknowledgement.",
            ["api"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.commit = Histogram(
            "sdehub_commit_seconds",
            "Duration of one group commit.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch = Histogram(
            "sdehub_commit_batch_size",
            "Writes carried by one group commit.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=self.registry,
        )
        self.quarantined = Counter(
            "sdehub_quarantined",
            "Payloads rejected and quarantined.",
            ["api"],
            registry=self.registry,
        )
        self.sdes = Counter(
            "sdehub_sdes_ingested",
            "SDEs accepted, by API and type.",
            ["api", "type"],
            registry=self.registry,
        )

    def on_commit(self, jobs: int, seconds: float) -> None:
        self.commit.observe(seconds)
        self.batch.observe(jobs)

    def on_quarantine(self, api: str) -> None:
        self.quarantined.labels(api=api).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

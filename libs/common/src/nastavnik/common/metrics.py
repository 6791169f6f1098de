"""Prometheus metrics every service exposes at ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "nastavnik_http_requests_total",
    "HTTP requests by route, method and status.",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "nastavnik_http_request_duration_seconds",
    "HTTP request latency.",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_BACKLOG = Gauge("nastavnik_outbox_backlog", "Outbox rows not yet published.", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "nastavnik_outbox_oldest_age_seconds",
    "Age of the oldest unpublished outbox row.",
    ["service"],
)
OUTBOX_PUBLISHED = Counter(
    "nastavnik_outbox_published_total", "Outbox rows published to JetStream.", ["service"]
)
EVENTS_CONSUMED = Counter(
    "nastavnik_events_consumed_total",
    "Events applied by a consumer (duplicates excluded).",
    ["service", "consumer"],
)
EVENTS_DUPLICATE = Counter(
    "nastavnik_events_duplicate_total",
    "Events skipped because the inbox had them already.",
    ["service", "consumer"],
)
EVENTS_REDELIVERED = Counter(
    "nastavnik_events_redelivered_total",
    "Messages received with a delivery count above one.",
    ["service", "consumer"],
)
EVENTS_FAILED = Counter(
    "nastavnik_events_failed_total",
    "Handler failures (the message is retried until max_deliver).",
    ["service", "consumer"],
)
DEAD_LETTERS = Counter(
    "nastavnik_dead_letters_total",
    "Messages sent to the dead-letter subject.",
    ["service", "consumer"],
)

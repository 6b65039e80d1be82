"""Prometheus metrics: what an operator watches (docs/operations.md). One registry per
process, served at /metrics by the web server (adapters/web.py) when WEB_PORT is set.

Platform-neutral names with a `platform` label; every adapter and worker counts into these, so
a dashboard reads the same for Telegram and Discord.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()

UPDATES = Counter(
    "community_updates_total",
    "Incoming updates (messages, clicks, interactions) handled",
    ["platform", "kind"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "community_update_seconds",
    "Time to handle one incoming update, from its arrival to the handler's end",
    ["platform", "kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15),
    registry=REGISTRY,
)
SENDS = Counter(
    "community_sends_total",
    "Messages sent or edited on a platform",
    ["platform", "method"],
    registry=REGISTRY,
)
THROTTLED = Counter(
    "community_throttled_total",
    "429 answers received from a platform (each one waited out and retried)",
    ["platform"],
    registry=REGISTRY,
)
REMINDERS = Counter(
    "community_reminders_total",
    "Reminder deliveries by outcome: sent, failed, late (sent after their due time), skipped",
    ["outcome"],
    registry=REGISTRY,
)
REMINDERS_DUE = Gauge(
    "community_reminders_due",
    "Reminder rows due now and not yet fired (as of the last run)",
    registry=REGISTRY,
)
CARDS_STALE = Gauge(
    "community_cards_stale",
    "Activities whose posted cards wait for a redraw (as of the last run)",
    registry=REGISTRY,
)

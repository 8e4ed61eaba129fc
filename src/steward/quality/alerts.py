"""Alerts on check state changes: one alert when a check starts failing, one when it recovers.

Receivers are Prometheus Alertmanager (its v2 API, `POST /api/v2/alerts`) and any
Slack-compatible incoming webhook (`{"text": ...}`). What was last delivered to each
receiver for each check is kept in an `AlertState` the caller provides, so a failure that
persists over many runs raises one alert, not a flood, and a receiver that was down gets
the alert on the next run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

import httpx

Status = Literal["pass", "warn", "fail", "error"]
Transition = Literal["firing", "resolved"]
Receiver = Literal["alertmanager", "webhook"]

ALERT_NAME = "StewardCheckFailed"
ALERTMANAGER_PATH = "/api/v2/alerts"
FAILING: frozenset[str] = frozenset({"fail", "error"})
# Alertmanager resolves an alert sent without `endsAt` after its `resolve_timeout` (5 minutes
# by default) unless it is sent again; Steward sends it once, so it says how long it holds.
FIRING_FOR = timedelta(days=7)
TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class CheckOutcome:
    """One check's result in one run, as the alerts see it."""

    dataset: str
    check: str
    severity: str
    status: Status
    message: str = ""
    url: str | None = None


class AlertState(Protocol):
    """What was last delivered per key: `"firing"`, `"resolved"`, or None if nothing was."""

    def last(self, key: str) -> str | None:
        """The state last delivered for `key`."""
        ...

    def set(self, key: str, state: str) -> None:
        """Remember that `state` was delivered for `key`."""
        ...


@dataclass
class MemoryAlertState:
    """An `AlertState` held in memory: for tests and one-shot runs."""

    states: dict[str, str] = field(default_factory=dict)

    def last(self, key: str) -> str | None:
        """The state last delivered for `key`."""
        return self.states.get(key)

    def set(self, key: str, state: str) -> None:
        """Remember that `state` was delivered for `key`."""
        self.states[key] = state


@dataclass(frozen=True)
class Alert:
    """One alert to one receiver: a check that started failing, or recovered."""

    receiver: Receiver
    transition: Transition
    outcome: CheckOutcome
    reason: str = ""  # why it was not delivered, when it was not

    @property
    def key(self) -> str:
        """The `AlertState` key: receiver, dataset and check."""
        return state_key(self.receiver, self.outcome.dataset, self.outcome.check)


@dataclass(frozen=True)
class AlertReport:
    """What `notify` delivered, and what it could not (kept to be retried next run)."""

    sent: tuple[Alert, ...] = ()
    undelivered: tuple[Alert, ...] = ()


def state_key(receiver: str, dataset: str, check: str) -> str:
    """The key under which the state of one check at one receiver is kept."""
    return f"{receiver}|{dataset}|{check}"


def notify(
    results: Iterable[CheckOutcome],
    *,
    state: AlertState,
    alertmanager_url: str | None = None,
    webhook_url: str | None = None,
    http: httpx.Client | None = None,
    now: datetime | None = None,
    failing: frozenset[str] = FAILING,
) -> AlertReport:
    """Alert each receiver of checks that started failing or recovered since it last heard.

    A check whose status is in `failing` (fail or error by default) fires once per
    receiver; while it keeps failing nothing more is sent; when it passes (or only warns)
    again, the receiver gets one resolution. A receiver that cannot be reached does not
    raise: its alerts are returned as undelivered and the state is left as it was, so the
    next run sends them again.

    Args:
        results: the outcomes of one run.
        state: what was last delivered per receiver and check (see `state_key`).
        alertmanager_url: Alertmanager's base URL, e.g. `http://alertmanager:9093`.
        webhook_url: a Slack-compatible incoming webhook URL.
        http: the client to send with; one with a short timeout is made if None.
        now: the time of the run (UTC), for `startsAt`/`endsAt`.
        failing: the statuses that count as a failure.
    """
    outcomes = list(results)
    moment = now or datetime.now(UTC)
    receivers: list[Receiver] = []
    if alertmanager_url:
        receivers.append("alertmanager")
    if webhook_url:
        receivers.append("webhook")
    due = {
        receiver: _due(outcomes, receiver=receiver, state=state, failing=failing)
        for receiver in receivers
    }
    if not any(due.values()):
        return AlertReport()
    client = http or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
    sent: list[Alert] = []
    undelivered: list[Alert] = []
    try:
        if alertmanager_url and due["alertmanager"]:
            alerts = due["alertmanager"]
            reason = _post(
                client,
                alertmanager_url.rstrip("/") + ALERTMANAGER_PATH,
                [alertmanager_alert(a, now=moment) for a in alerts],
            )
            (undelivered if reason else sent).extend(_with_reason(alerts, reason))
        if webhook_url:
            for alert in due.get("webhook", []):
                reason = _post(client, webhook_url, {"text": webhook_text(alert)})
                (undelivered if reason else sent).extend(_with_reason([alert], reason))
    finally:
        if http is None:
            client.close()
    for alert in sent:
        state.set(alert.key, alert.transition)
    return AlertReport(tuple(sent), tuple(undelivered))


def alertmanager_alert(alert: Alert, *, now: datetime) -> dict[str, Any]:
    """One `postableAlert` of Alertmanager's v2 API for a firing or resolved check."""
    outcome = alert.outcome
    body: dict[str, Any] = {
        "labels": {
            "alertname": ALERT_NAME,
            "dataset": outcome.dataset,
            "check": outcome.check,
            "severity": outcome.severity,
        },
        "annotations": {
            "summary": _summary(alert),
            "description": outcome.message or _summary(alert),
        },
    }
    if alert.transition == "firing":
        body["startsAt"] = _timestamp(now)
        body["endsAt"] = _timestamp(now + FIRING_FOR)
    else:
        body["endsAt"] = _timestamp(now)
    if outcome.url:
        body["generatorURL"] = outcome.url
    return body


def webhook_text(alert: Alert) -> str:
    """The Slack-compatible message for a firing or resolved check."""
    outcome = alert.outcome
    icon = ":red_circle:" if alert.transition == "firing" else ":large_green_circle:"
    lines = [f"{icon} {_summary(alert)}"]
    if alert.transition == "firing" and outcome.message:
        lines.append(outcome.message)
    if outcome.url:
        lines.append(outcome.url)
    return "\n".join(lines)


def _due(
    outcomes: list[CheckOutcome],
    *,
    receiver: Receiver,
    state: AlertState,
    failing: frozenset[str],
) -> list[Alert]:
    due: list[Alert] = []
    # A check reported twice in one run (a retry) counts once, as last reported.
    latest = {(o.dataset, o.check): o for o in outcomes}
    for outcome in latest.values():
        last = state.last(state_key(receiver, outcome.dataset, outcome.check))
        if outcome.status in failing:
            if last != "firing":
                due.append(Alert(receiver, "firing", outcome))
        elif last == "firing":
            due.append(Alert(receiver, "resolved", outcome))
    return due


def _post(client: httpx.Client, url: str, body: Any) -> str:
    """POST `body` as JSON; the reason it was not delivered, or "" when it was."""
    try:
        response = client.post(url, json=body)
    except httpx.HTTPError as exc:
        return f"{url}: {type(exc).__name__}: {exc}"
    if response.is_success:
        return ""
    return f"{url}: HTTP {response.status_code}: {response.text[:200]}"


def _with_reason(alerts: list[Alert], reason: str) -> list[Alert]:
    if not reason:
        return alerts
    return [Alert(a.receiver, a.transition, a.outcome, reason) for a in alerts]


def _summary(alert: Alert) -> str:
    outcome = alert.outcome
    if alert.transition == "resolved":
        return f"Resolved: check {outcome.check} on {outcome.dataset} passes again"
    verb = "could not run" if outcome.status == "error" else "failed"
    return f"Check {outcome.check} on {outcome.dataset} {verb} (severity {outcome.severity})"


def _timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

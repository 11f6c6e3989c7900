"""The webhook service: hand a provider's call to the plugin it names for verification, then
apply the events the plugin read from it.

Which instance verifies: one URL per plugin id. A plugin that fills both the outbound and the
inbound slot runs as two instances, each with its own settings (two accounts may have two
callback secrets); the outbound one is asked first, then the inbound one, and the request is
rejected only when every one rejects it. A status report applies to jobs sent through that
plugin (their `backend`); a received fax is stored only when that plugin is the inbound
provider, and the inbound instance fetches its PDF and deletes the provider's copy.

Events: a StatusReport moves its job forward only, once per `event_id` (a duplicate is
acknowledged and ignored; an unknown provider id is acknowledged and logged). A ReceivedFax
is stored once per (provider, provider_sid). Each applied event, and each rejected request,
is written to the audit log (ids and kinds only: no numbers, no content, no secrets)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from faxbot.audit import Action, AuditLog, DocumentDetail, Outcome, WebhookDetail
from faxbot.dispatch.dispatcher import Dispatcher
from faxbot.inbound.service import InboundService
from faxbot.metrics import WebhookRecorder
from faxbot.plugins.contract import (
    ReceivedFax,
    StatusReport,
    TransportEvent,
    WebhookReceiver,
    WebhookRejected,
    WebhookRequest,
)
from faxbot.store.jobs import JobStore, ReportResult


class UnknownWebhook(LookupError):
    """No running plugin with that id takes webhooks."""


class Rejected(Exception):
    """Every instance of the plugin refused the request (WebhookRejected)."""


@dataclass
class Applied:
    """What one webhook request did, by outcome: `applied`, `duplicate`, `unknown`, ..."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


class WebhookService:
    def __init__(
        self,
        receivers: Mapping[str, Sequence[WebhookReceiver]],
        *,
        jobs: JobStore | None,
        dispatcher: Dispatcher | None,
        inbound: InboundService | None,
        logger: logging.Logger,
        audit: AuditLog | None = None,
        metrics: WebhookRecorder | None = None,
    ) -> None:
        self._metrics = metrics
        self._receivers = receivers
        self._jobs = jobs
        self._dispatcher = dispatcher
        self._inbound = inbound
        self._log = logger
        self._audit = audit

    def knows(self, plugin_id: str) -> bool:
        return plugin_id in self._receivers

    async def receive(self, plugin_id: str, request: WebhookRequest) -> Applied:
        """Verify `request` with the plugin `plugin_id` and apply its events. UnknownWebhook,
        or Rejected (nothing changed, the refusal audited)."""
        receivers = self._receivers.get(plugin_id)
        if not receivers:
            raise UnknownWebhook(plugin_id)
        events: Sequence[TransportEvent] | None = None
        reason = ""
        for receiver in receivers:
            try:
                events = await receiver.ingest_webhook(request)
                break
            except WebhookRejected as exc:
                reason = str(exc)
        if events is None:
            self._log.warning(
                "webhook rejected",
                extra={"event": "webhook_rejected", "plugin": plugin_id, "reason": reason},
            )
            await self._record(Outcome.REJECTED, plugin_id, None, None)
            if self._metrics is not None:
                self._metrics.rejected(plugin_id)
            raise Rejected(reason)
        if self._metrics is not None:
            self._metrics.accepted(plugin_id)
        applied = Applied()
        for event in events:
            if isinstance(event, StatusReport):
                what = await self._status(plugin_id, event)
            else:
                what = await self._received(plugin_id, event)
            applied.add(what)
            if self._metrics is not None:
                self._metrics.event(plugin_id, what)
        return applied

    async def _record(
        self, outcome: Outcome, plugin_id: str, subject: str | None, event: str | None
    ) -> None:
        if self._audit is not None:
            detail = WebhookDetail(plugin=plugin_id, event=event)
            await self._audit.record(Action.WEBHOOK_EVENT, outcome, subject=subject, detail=detail)

    async def _status(self, plugin_id: str, report: StatusReport) -> str:
        if self._jobs is None:
            result, job = ReportResult.UNKNOWN, None
        else:
            result, job = await self._jobs.apply_report(
                backend=plugin_id,
                event_id=report.event_id,
                provider_sid=report.provider_sid,
                job_id=report.job_id,
                status=report.update.status,
                error=report.update.error,
                pages=report.update.pages,
            )
        self._log.log(
            logging.WARNING if result is ReportResult.UNKNOWN else logging.INFO,
            f"status report {result.value}",
            extra={
                "event": "webhook_status",
                "plugin": plugin_id,
                "result": result.value,
                "job_id": job.id if job is not None else None,
                "status": str(report.update.status),
            },
        )
        await self._record(Outcome.OK, plugin_id, job.id if job else None, f"status_{result.value}")
        ended = result is ReportResult.APPLIED and job is not None and job.terminal
        if ended and job is not None and self._dispatcher is not None:
            self._dispatcher.forget(job.id)
            await self._dispatcher.ended(job)
        return result.value

    async def _received(self, plugin_id: str, fax: ReceivedFax) -> str:
        inbound = self._inbound
        if inbound is None or inbound.source.plugin != plugin_id:
            self._log.warning(
                "received fax ignored: this plugin is not the inbound provider",
                extra={"event": "webhook_fax_ignored", "plugin": plugin_id},
            )
            await self._record(Outcome.OK, plugin_id, None, "received_ignored")
            return "ignored"
        stored, created = await inbound.receive(fax)
        what = "received" if created else "received_duplicate"
        await self._record(Outcome.OK, plugin_id, stored.id, what)
        if created and self._audit is not None:
            detail = DocumentDetail(pages=stored.pages, plugin=plugin_id)
            await self._audit.record(
                Action.FAX_RECEIVED, Outcome.OK, subject=stored.id, detail=detail
            )
        return what

"""Alerts from the agency's feed go out to the `emergencies` subscribers by themselves, once.

The broadcaster process (`python -m bot.broadcasts`) runs `AlertsPoller.run`: every
ALERTS_POLL_SECONDS it reads the feed (ALERTS_URL, GeoJSON or CAP, `bot.clients.alerts`) and relays
each real, unexpired alert of at least ALERTS_BROADCAST_MIN_SEVERITY as a `Broadcast` of kind ALERT
to the districts its area names ("all" when it names none), worded from data/broadcasts/alerts.yml.

Exactly once per alert and version, across restarts and replicas: a version is claimed with one
Redis `SET NX` (kept for the alert's life plus a week) before anything is created, and the
broadcast's id is derived from the claim, so a poller that finds a claim whose broadcast never got
queued (its claimer died in between) can finish the job without making a second one; queueing is
idempotent (`start_delivery`). A version is the alert's content (kind, headline, texts, severity,
area), not its `sent` or expiry time: feeds that re-stamp an unchanged alert (the demo agency's does, on
every request) must not send it again, and an update that changes nothing a citizen reads is not
news. An update ("Update: ...") or a cancellation ("Cancelled: ...") of an alert already relayed goes
out whatever its severity; an expired alert never does. A feed that is down is logged and tried
again at the next poll.

Languages: the relay is worded in every language the agency offers (data/agency.yml
`languages_offered`): the alert's text in that language when the feed carries it (CAP <info> blocks,
GeoJSON parameters: `bot.clients.alerts`), else its own with the `only_in` note ("Esta alerta solo
está disponible en inglés."), and the texts file's wording in that language; each subscriber gets the
one they subscribed in (`bot.broadcasts.worker`). The English relay reads as it always has.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.agency_config import AgencyConfig
from bot.broadcasts.delivery import start_delivery
from bot.broadcasts.model import ALERT, PREFIX, SENDING, Broadcast, BroadcastStore
from bot.broadcasts.texts import BroadcastTexts, alert_text, fill, load_texts
from bot.clients.alerts import Alert, AlertsClient
from bot.clients.errors import AgencyUnavailable
from bot.content.agency import SOURCE_LANGUAGE, load_agency
from bot.formatting import moment_text
from bot.settings import Settings
from bot.subscriptions.catalog import ALL, EMERGENCIES, load_catalog
from bot.subscriptions.store import PUSH_CHANNELS

log = logging.getLogger(__name__)

AUTHOR = "alerts feed"
SEVERITY_ORDER = ("Unknown", "Minor", "Moderate", "Severe", "Extreme")
CLAIM_MARGIN = 7 * 24 * 3600  # a claim outlives its alert by a week
NO_EXPIRY_CLAIM = 30 * 24 * 3600  # an alert without an expiry: its claim lasts a month
TAKE_OVER_AFTER = 120.0  # seconds: a claim whose broadcast is still missing then was abandoned
USER_AGENT = "CivicAssistant/0.1 (alerts poller)"
_NOT_ACTUAL = {"test", "exercise", "draft", "system"}


def severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else 0


def alert_version(alert: Alert) -> str:
    """What makes one version of an alert: everything a citizen would read in it."""
    parts = [alert.message_type, alert.event, alert.headline, alert.description, alert.instruction]
    parts += [alert.severity, alert.area]  # not the times: some feeds re-stamp an unchanged alert
    for code, text in sorted(alert.texts.items()):  # none for an English-only alert: same version as ever
        parts += [code, text.event, text.headline, text.description, text.instruction]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _digest(alert_id: str) -> str:
    return hashlib.sha256(alert_id.encode()).hexdigest()[:24]


def claim_key(alert_id: str, version: str) -> str:
    return f"{PREFIX}alert:claim:{_digest(alert_id)}:{version}"


def relayed_key(alert_id: str) -> str:
    """Set when any version of the alert went out: its updates and cancellation follow it."""
    return f"{PREFIX}alert:relayed:{_digest(alert_id)}"


def broadcast_id(alert_id: str, version: str) -> str:
    """The same on every replica, so a half-done relay is finished, never doubled."""
    return "b-" + hashlib.sha256(f"{alert_id}\x1f{version}".encode()).hexdigest()[:12]


class AlertsPoller:
    """Reads the alerts feed and relays what is new (see the module docstring)."""

    def __init__(
        self, redis: aioredis.Redis, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self.redis = redis
        self.settings = settings
        self.clock = clock
        self.config = AgencyConfig.from_settings(settings)
        self.store = BroadcastStore(redis, clock=clock)
        self._session: aiohttp.ClientSession | None = None

    async def client(self) -> AlertsClient:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return AlertsClient(
            self._session,
            self.config.alerts_url,
            format=self.config.alerts_format,
            timeout=self.config.timeout_seconds,
            user_agent=USER_AGENT,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; nothing that goes wrong in one poll ends the loop."""
        try:
            while not stop.is_set():
                try:
                    await self.poll_once()
                except Exception:  # a bug or Redis down: the next poll tries again
                    log.exception("alerts poller: this poll failed")
                try:
                    await asyncio.wait_for(stop.wait(), self.settings.broadcasts.alerts_poll_seconds)
                except asyncio.TimeoutError:
                    pass
        finally:
            await self.close()

    async def poll_once(self) -> list[Broadcast]:
        """Relay every alert that is due; the broadcasts this poll created (or finished)."""
        try:
            alerts = await (await self.client()).fetch()
        except AgencyUnavailable as exc:
            log.warning("alerts poller: the feed is unavailable (%s); trying again next poll", exc.reason)
            return []
        now = datetime.fromtimestamp(self.clock(), timezone.utc)
        relayed = []
        for alert in alerts:
            if not await self.due(alert, now):
                continue
            try:
                broadcast = await self.relay(alert)
            except (RedisError, OSError) as exc:
                log.warning("alerts poller: could not relay alert %s: %s", _digest(alert.id)[:10], exc)
                continue
            if broadcast is not None:
                relayed.append(broadcast)
        return relayed

    async def due(self, alert: Alert, now: datetime) -> bool:
        """Real, unexpired, and severe enough (or following a version that went out)."""
        if alert.status.lower() in _NOT_ACTUAL or alert.expired(now):
            return False
        minimum = severity_rank(self.settings.broadcasts.alerts_min_severity)
        if severity_rank(alert.severity) >= minimum:
            return True
        follows = alert.message_type.lower() in ("update", "cancel")
        return follows and bool(await self.redis.exists(relayed_key(alert.id)))

    async def relay(self, alert: Alert) -> Broadcast | None:
        """Claim this version, then create and queue its broadcast; None when another poller has it."""
        version = alert_version(alert)
        ident = broadcast_id(alert.id, version)
        now = self.clock()
        claimed = await self.redis.set(claim_key(alert.id, version), now, nx=True, ex=self.claim_ttl(alert))
        if not claimed:
            return await self.finish_abandoned(alert, version, ident)
        return await self.send(alert, version, ident)

    async def finish_abandoned(self, alert: Alert, version: str, ident: str) -> Broadcast | None:
        """A claim exists: queue its broadcast if the claimer stopped before it did (idempotent)."""
        existing = await self.store.get(ident)
        if existing is not None:
            if not existing.audience:  # created but maybe never queued
                await start_delivery(self.redis, existing)
            return None
        raw = await self.redis.get(claim_key(alert.id, version))
        claimed_at = float(raw or 0)
        if self.clock() - claimed_at < TAKE_OVER_AFTER:
            return None  # the claimer is at it now
        log.warning("alerts poller: finishing alert %s, abandoned by another poller", ident)
        return await self.send(alert, version, ident)

    async def send(self, alert: Alert, version: str, ident: str) -> Broadcast:
        broadcast = await self.store.add(self.broadcast(alert, version, ident))
        audience = await start_delivery(self.redis, broadcast)
        async with self.store.lock(broadcast.id):  # the workers may have moved it on meanwhile
            current = await self.store.get(broadcast.id) or broadcast
            broadcast = replace(current, audience=dict(audience))
            await self.store.put(broadcast)
        await self.redis.set(relayed_key(alert.id), ident, ex=self.claim_ttl(alert))
        log.info(
            "alerts poller: relayed %s (%s, %s) to %d subscribers",
            ident,
            alert.message_type,
            alert.severity,
            audience.get("total", 0),
        )
        return broadcast

    def claim_ttl(self, alert: Alert) -> int:
        if alert.expires is None:
            return NO_EXPIRY_CLAIM
        left = alert.expires.timestamp() - self.clock()
        return int(max(left, 0) + CLAIM_MARGIN)

    def broadcast(self, alert: Alert, version: str, ident: str) -> Broadcast:
        """The alert as a broadcast to the districts its area names, worded by staff, in English and
        in each other language the agency offers."""
        texts = load_texts()
        catalog = load_catalog()
        areas = tuple(catalog.areas_in(alert.area)) or (ALL,)
        link = alert.web or _web(load_agency().expand("{agency.web_alerts}"))
        english = self.worded(alert, texts, SOURCE_LANGUAGE, link)
        translations = {
            code: self.worded(alert, texts.in_language(code), code, link)
            for code in load_agency().languages
            if code != SOURCE_LANGUAGE
        }
        now = self.clock()
        return Broadcast(
            id=ident,
            title=english["title"],
            text=english["text"],
            short_text=english["short_text"],
            topic=EMERGENCIES,
            areas=areas,
            channels=PUSH_CHANNELS,
            author=AUTHOR,
            link=link,
            status=SENDING,
            approvals=(AUTHOR,),
            approvals_needed=1,
            created=now,
            sent_at=now,
            kind=ALERT,
            alert_id=alert.id,
            alert_version=version,
            translations=translations,
        )

    def worded(self, alert: Alert, texts: BroadcastTexts, language: str, link: str) -> dict[str, str]:
        """Title, text and short text of the relay for a reader of `language` (`texts` in it)."""
        text, note = alert_text(alert, language, texts)
        values: dict[str, Any] = {
            "prefix": texts.prefix(_message_type(alert)),
            "event": text.event or alert.event,
            "headline": text.headline or text.event or alert.event,
            "note": note,
            "area": alert.area or texts.text("relay", "whole_city"),
            "instruction": text.instruction,
            "expires": moment_text(alert.expires, self.config.zone, language) if alert.expires else "",
            "link": link,
        }
        return {
            "title": fill(texts.text("relay", "title"), values),
            "text": fill(texts.text("relay", "text"), values),
            "short_text": fill(texts.text("relay", "sms"), values),
        }


def _message_type(alert: Alert) -> str:
    kind = alert.message_type.strip().capitalize()
    return kind if kind in ("Update", "Cancel") else "Alert"


def _web(address: str) -> str:
    """An agency fact like "harborcity.example/alerts" as a link a phone makes clickable."""
    return address if address.startswith(("http://", "https://")) or not address else f"https://{address}"

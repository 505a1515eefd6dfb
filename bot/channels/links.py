"""The click-counting redirect of the links in answers under a message test (issue #18, contract §2).

While an entry's wording is tested, the NLG replaces its source link with
`<public URL>/webhooks/links/go/<entry id>/<variant id>` (`bot/feedback/links.py`). A citizen who
opens it comes here: the entry is looked up in the content, the click is counted for that entry,
variant and time (`bot.analytics.summary.record_click`), and the answer is a 302 to the entry's own
`source`. Nothing else is kept: no cookie, no address, no conversation (the URL names none).

- Only the content decides where a link goes: an entry or a variant that is not (or no longer)
  in the content, or an entry whose source is not http(s), gets a 404 page saying so
  (`link_gone`, data/channels/messages.yml), so the route can never send anyone elsewhere.
- A link preview is not a click: messaging apps fetch links to draw a card (Telegram, Messenger,
  WhatsApp...); a HEAD request or a known preview robot is redirected without being counted.
- Redis being down never stops a citizen: they are redirected, and the lost click is logged.
- The content is read off the event loop, and parsed again only when a file changed
  (`bot.content.model.load_topic` caches by each file's hash), so a Promote in the console is
  seen at the next click.

A Rasa input channel (name "links", no messages of its own), so it is served by Rasa's public web
service under `/webhooks/` like the messaging webhooks. credentials.yml key
`bot.channels.links.LinkRedirect`: optional `content_dir` and the Redis keys (`redis_host`,
`redis_port`, `redis_db`, `redis_password`); without them, Redis comes from the environment
(`bot.settings`), as for the web chat.
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.analytics.summary import record_click
from bot.channels.base import ChannelConfigError, Credentials, OnNewMessage
from bot.channels.store import STORE_ERRORS, ChannelStore
from bot.channels.wording import TextsError, load_texts
from bot.content.model import CONTENT_DIR, ID_PATTERN, ContentError, all_entries, load_content
from bot.settings import RedisAddress, Settings, SettingsError

log = logging.getLogger(__name__)

MAX_ID = 80
# User agents of the robots that fetch a link to draw its preview card in a chat app.
PREVIEW_AGENTS = (
    "telegrambot",
    "facebookexternalhit",
    "facebookcatalog",
    "whatsapp",
    "twitterbot",
    "slackbot",
    "discordbot",
    "linkedinbot",
    "skypeuripreview",
    "googlebot",
    "bingbot",
)
NO_TRACE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
GONE_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{text}</title></head><body><main><p>{text}</p></main></body></html>"
)


def is_id(value: str) -> bool:
    """An entry or variant id as the content allows them (never a path, a URL or anything else)."""
    return len(value) <= MAX_ID and ID_PATTERN.match(value) is not None


def is_preview(request: Request) -> bool:
    agent = request.headers.get("user-agent", "").lower()
    return request.method == "HEAD" or any(robot in agent for robot in PREVIEW_AGENTS)


class LinkRedirect(InputChannel):
    """`GET /webhooks/links/go/<entry id>/<variant id>`: count the click, send the citizen on."""

    @classmethod
    def name(cls) -> str:
        return "links"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> LinkRedirect:
        creds = Credentials(cls.name(), credentials or {})
        try:
            redis = Settings.from_env().redis.address
            gone = load_texts().link_gone
        except (SettingsError, TextsError) as exc:
            raise ChannelConfigError(f"links: {exc}") from None
        redis = creds.redis(default=redis)
        content_dir = Path(creds.text("content_dir", default=str(CONTENT_DIR)))
        return cls(redis, content_dir, gone)

    def __init__(self, redis: RedisAddress, content_dir: Path, gone_text: str) -> None:
        self.store = ChannelStore(redis, self.name())
        self.content_dir = content_dir
        self.gone_text = gone_text

    def target(self, entry_id: str, variant: str) -> tuple[str, bool] | None:
        """The source of `entry_id` (http(s) only), and whether `variant` is one of its wordings under
        test now; None for an unknown entry. A link from a test that has ended still leads on to
        the page (the citizen kept the message), but counts for nothing."""
        try:
            entries = all_entries(load_content(self.content_dir))
        except (ContentError, OSError) as exc:
            log.error("links: the content could not be read: %s", exc)
            return None
        entry = next((e for e in entries if e.id == entry_id), None)
        if entry is None or not entry.source.startswith(("https://", "http://")):
            return None
        return entry.source, variant in {v.id for v in entry.variants}

    async def follow(self, request: Request, entry_id: str, variant: str) -> HTTPResponse:
        found = None
        if is_id(entry_id) and is_id(variant):
            found = await asyncio.to_thread(self.target, entry_id, variant)
        if found is None:
            log.info("links: a link to an unknown entry (404)")
            page = GONE_PAGE.format(text=html.escape(self.gone_text))
            return response.html(page, status=404, headers=dict(NO_TRACE))
        source, under_test = found
        if under_test and not is_preview(request):
            try:
                await record_click(self.store.client, entry_id, variant, time.time())
            except STORE_ERRORS as exc:
                log.warning("links: Redis unavailable, a click on %s was not counted: %s", entry_id, exc)
        return response.redirect(source, status=302, headers=dict(NO_TRACE))  # Sanic adds to it

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        links = Blueprint("civic_links", url_prefix=None)

        @links.route("/go/<entry_id>/<variant>", methods=["GET", "HEAD"])
        async def go(request: Request, entry_id: str, variant: str) -> HTTPResponse:
            return await self.follow(request, entry_id, variant)

        @links.listener("after_server_stop")
        async def stop(_app: Any, _loop: Any) -> None:
            await self.store.close()

        return links

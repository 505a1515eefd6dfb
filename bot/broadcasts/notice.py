"""The pinned emergency notice: one text (with a link and an expiry) that leads greetings and the alerts
answer, and shows as a banner in the web chat, from the next message on, without retraining.

One Redis key (`civic:bc:v1:notice`, JSON) that expires with the notice itself, so an expired notice
is gone everywhere at once; `DELETE /api/notice` removes it sooner. Read on every greeting, so the
read is one GET.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

import redis.asyncio as aioredis

NOTICE_KEY = "civic:bc:v1:notice"
MAX_TEXT = 480  # shown before other answers: short, and within 3 SMS segments with its link


@dataclass(frozen=True)
class Notice:
    text: str
    link: str
    expires_at: float  # epoch seconds
    author: str
    pinned_at: float

    def public(self) -> dict[str, Any]:
        """What the web chat and the API show (the author's account name stays in the console)."""
        return {
            "text": self.text,
            "link": self.link,
            "expires_at": self.expires_at,
            "pinned_at": self.pinned_at,
        }

    def as_text(self) -> str:
        """One paragraph, as it leads a reply: the text, then the link."""
        return f"{self.text} {self.link}".strip()


class NoticeStore:
    def __init__(self, redis: aioredis.Redis, clock: Any = time.time) -> None:
        self.redis = redis
        self.clock = clock

    async def pin(self, text: str, link: str, expires_at: float, author: str) -> Notice:
        """Replace any pinned notice. The caller has checked the text, link and expiry."""
        notice = Notice(text.strip(), link.strip(), expires_at, author, self.clock())
        ttl_ms = max(1, int((expires_at - notice.pinned_at) * 1000))
        await self.redis.set(NOTICE_KEY, json.dumps(asdict(notice), ensure_ascii=False), px=ttl_ms)
        return notice

    async def current(self) -> Notice | None:
        raw = await self.redis.get(NOTICE_KEY)
        if not raw:
            return None
        notice = Notice(**json.loads(raw))
        return notice if notice.expires_at > self.clock() else None

    async def clear(self) -> bool:
        return bool(await self.redis.delete(NOTICE_KEY))

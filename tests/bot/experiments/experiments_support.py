"""Shared by the message-test tests (imported as `experiments_support`): a project with an entry
under test, and the events of a test with known outcomes, as Rasa publishes them (contract §1)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bot.analytics.aggregator import Aggregator
from bot.analytics.summary import record_click
from bot.events import STREAM

ROOT = Path(__file__).resolve().parents[3]
ROLES = {"erin": "editor", "dana": "agent"}
CITY = (ROOT / "tests" / "fixtures" / "content" / "tested" / "city.yml").read_text(encoding="utf-8")
WARM = "Come by any day but Sunday - the library is open 9 to 6."


def project(tmp_path: Path, city: str = CITY) -> Path:
    """A project directory with the tested content and the agency's facts; returns its content dir."""
    content = tmp_path / "data" / "content"
    content.mkdir(parents=True)
    shutil.copy(ROOT / "tests/fixtures/content/good/_settings.yml", content / "_settings.yml")
    shutil.copy(ROOT / "data/agency.yml", tmp_path / "data" / "agency.yml")
    (content / "city.yml").write_text(city, encoding="utf-8")
    return content


def conversation(cid: str, t: float, variant: str, rating: str) -> list[dict[str, Any]]:
    """A citizen asks, gets `variant`'s answer, and taps `rating` ("up", "down" or "" for none)."""
    parse = {"intent": {"name": "faq", "confidence": 0.9}, "entities": [], "text": "library hours"}
    events: list[dict[str, Any]] = [
        {
            "event": "user",
            "sender_id": cid,
            "timestamp": t,
            "text": "library hours",
            "parse_data": parse,
            "input_channel": "socketio",
        },
        {
            "event": "bot",
            "sender_id": cid,
            "timestamp": t + 1,
            "text": "...",
            "data": {},
            "metadata": {
                "utter_action": "utter_faq/library_hours",
                "rating": {
                    "answer": f"a-{cid}",
                    "entry": "library_hours",
                    "variant": variant,
                    "kind": "faq",
                    "topic": "city",
                },
            },
        },
    ]
    if rating:
        payload = f'/feedback{{"answer":"a-{cid}","value":"{rating}"}}'
        entities = [{"entity": "answer", "value": f"a-{cid}"}, {"entity": "value", "value": rating}]
        tap = {"intent": {"name": "feedback", "confidence": 1.0}, "entities": entities, "text": payload}
        events.append(
            {
                "event": "user",
                "sender_id": cid,
                "timestamp": t + 2,
                "text": payload,
                "parse_data": tap,
                "input_channel": "socketio",
            }
        )
    return events


async def run_test(redis: Redis) -> None:
    """30 conversations per variant: plain rated helpful 8 of 20 times, warm 17 of 20; one click on plain."""
    now = time.time() - 3600
    for n in range(30):
        plain = "up" if n < 8 else "down" if n < 20 else ""
        warm = "up" if n < 17 else "down" if n < 20 else ""
        for event in conversation(f"p{n}", now + n * 10, "plain", plain) + conversation(
            f"w{n}", now + n * 10, "warm", warm
        ):
            await redis.xadd(STREAM, {"event": json.dumps(event)})
    await Aggregator(redis).catch_up()
    await record_click(redis, "library_hours", "plain", now)

"""Helpers shared by the handoff tests."""

from __future__ import annotations

from typing import Any

from bot.handoff.store import QueueStore


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def queue_one(store: QueueStore, cid: str, **kwargs: Any) -> None:
    await store.enqueue(
        cid,
        channel=kwargs.get("channel", "socketio"),
        reason=kwargs.get("reason", "requested"),
        summary=kwargs.get("summary", {"reason": "requested", "facts": {"address": "12 Harbor Rd"}}),
        history=kwargs.get("history", []),
        seeded_until=kwargs.get("seeded_until", 0.0),
    )

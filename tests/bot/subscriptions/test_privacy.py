"""`python -m bot privacy export/erase` cover subscriptions: the record, the consent log, the audience
indexes and a pending SMS opt-in code; another citizen's subscription stays."""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.identity import IdentityKey
from bot.privacy.erase import erase
from bot.privacy.export import export
from bot.privacy.holdings import Subject
from bot.subscriptions.optin import OptIn, optin_key
from bot.subscriptions.store import PREFIX, SubscriberStore

SECRET = "privacy-tests-identity-secret-01"
WEB = "socketio-" + "1" * 32
OTHER = "telegram-" + "2" * 32


async def test_export_and_erase_cover_subscriptions(db: aioredis.Redis) -> None:
    store = SubscriberStore(db)
    await store.subscribe(WEB, ["water"], ["downtown"], "Please confirm: water for Downtown.")
    await store.subscribe(OTHER, ["water"], ["downtown"], "Please confirm: water for Downtown.")
    codes = OptIn(db, IdentityKey(SECRET), SECRET, 10)
    await codes.send_code(WEB, "+15550101234", ["water"], ["all"], "Please confirm", lambda code: f"{code}")

    document = await export(db, Subject(WEB, "socketio"))
    held = {item["key"] for item in document["held"]["subscriptions"]}
    assert {f"{PREFIX}sub:{WEB}", f"{PREFIX}consent:{WEB}", optin_key(WEB)} <= held
    assert {f"{PREFIX}idx:water:downtown", f"{PREFIX}members:all"} <= held

    removed = await erase(db, Subject(WEB, "socketio"))
    assert removed["subscriptions"] >= 5
    assert await store.get(WEB) is None and await store.consent_log(WEB) == []
    assert await db.exists(optin_key(WEB)) == 0
    assert await db.smembers(f"{PREFIX}idx:water:downtown") == {OTHER}
    assert await store.get(OTHER) is not None

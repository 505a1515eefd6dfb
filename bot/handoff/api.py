"""The JSON API under /api (documented in docs/handoff.md), and the live events websocket /api/events.

Errors are JSON `{"error": reason}`: 401 without a valid token or session, 404 for an unknown
conversation, 400 for a malformed body, 409 when the conversation's state forbids the operation
(another agent holds it), 502 when Rasa cannot deliver. Message text is returned exactly as written.
`POST .../messages` takes an optional `client_message_id`: a retry carrying the same one (after a
timeout, say) is answered like the first and delivered once.
`POST .../language` `{"language": "es"}` picks the language of the console's notices and canned
replies for a conversation (400 for a language the agency does not offer); `GET /api/canned_replies
?language=es` lists the canned replies in a language (the console's own, English, without one).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from typing import Any

from aiohttp import WSMsgType, web

from bot.clients.rasa import RasaUnavailable
from bot.console import audit
from bot.console.accounts import Account
from bot.console.auth import check_websocket_origin, require_account, still_authorized
from bot.console.keys import ACCOUNTS
from bot.content.agency import SOURCE_LANGUAGE
from bot.handoff import texts
from bot.handoff.keys import CONFIG, HUB, SERVICE, STORE
from bot.handoff.service import Conflict, NotFound, NotOffered
from bot.handoff.shapes import conversation_view, queue_view

log = logging.getLogger(__name__)
MAX_MESSAGE = 4000
# The console's idempotency key for a message: a retry with the same key is delivered once.
CLIENT_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{0,64}")
ONLINE_HEARTBEAT = 30.0


def error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def _agent(request: web.Request) -> Account:
    account = await require_account(request)
    await request.app[STORE].mark_online(account.name)
    return account


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "the body must be a JSON object"}), content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "the body must be a JSON object"}), content_type="application/json"
        )
    return body


async def get_queue(request: web.Request) -> web.Response:
    await _agent(request)
    return web.json_response(await queue_view(request.app))


async def get_conversation(request: web.Request) -> web.Response:
    await _agent(request)
    view = await conversation_view(request.app, request.match_info["conversation_id"])
    if view is None:
        return error(404, "no such conversation in the queue")
    return web.json_response(view)


async def _state(request: web.Request) -> web.Response:
    view = await conversation_view(request.app, request.match_info["conversation_id"])
    assert view is not None
    return web.json_response({k: view[k] for k in ("conversation_id", "status", "agent")})


async def _run(request: web.Request, operation: Any, action: str, detail: str = "") -> web.Response:
    """Run an agent's `operation` on the conversation; when it succeeds, `action` goes in the audit log."""
    try:
        await operation
    except NotFound:
        return error(404, "no such conversation in the queue")
    except Conflict as exc:
        return error(409, str(exc))
    except RasaUnavailable as exc:
        log.warning("api: %s", exc)
        return error(502, "Rasa did not answer; try again")
    await audit.record(request, action, request.match_info["conversation_id"], detail=detail)
    return await _state(request)


async def claim(request: web.Request) -> web.Response:
    agent = await _agent(request)
    operation = request.app[SERVICE].claim(request.match_info["conversation_id"], agent.name)
    return await _run(request, operation, "claim")


async def post_message(request: web.Request) -> web.Response:
    agent = await _agent(request)
    body = await _body(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return error(400, '"text" must be a non-empty string')
    if len(text) > MAX_MESSAGE:
        return error(400, f'"text" must be at most {MAX_MESSAGE} characters')
    client_message_id = body.get("client_message_id", "")
    if not isinstance(client_message_id, str) or not CLIENT_MESSAGE_ID.fullmatch(client_message_id):
        return error(400, '"client_message_id" must be 1-64 letters, digits, "-" or "_"')
    cid = request.match_info["conversation_id"]
    operation = request.app[SERVICE].send(cid, agent.name, text, client_message_id=client_message_id)
    return await _run(request, operation, "send", f"{len(text)} characters")


async def release(request: web.Request) -> web.Response:
    agent = await _agent(request)
    cid = request.match_info["conversation_id"]
    operation = request.app[SERVICE].release(cid, agent.name, force=agent.is_editor)
    return await _run(request, operation, "release")


async def transfer(request: web.Request) -> web.Response:
    agent = await _agent(request)
    body = await _body(request)
    to = body.get("agent")
    if not isinstance(to, str) or not to:
        return error(400, '"agent" must name the agent to transfer to')
    if request.app[ACCOUNTS].get(to) is None:
        return error(400, f"there is no agent named {to!r}")
    cid = request.match_info["conversation_id"]
    operation = request.app[SERVICE].transfer(cid, agent.name, to, force=agent.is_editor)
    return await _run(request, operation, "transfer", f"to {to}")


async def close(request: web.Request) -> web.Response:
    agent = await _agent(request)
    cid = request.match_info["conversation_id"]
    operation = request.app[SERVICE].close(cid, agent.name, force=agent.is_editor)
    return await _run(request, operation, "close")


async def set_language(request: web.Request) -> web.Response:
    """Not in the audit log: it changes the wording of what the citizen is told, not the chat."""
    await _agent(request)
    body = await _body(request)
    language = body.get("language")
    if not isinstance(language, str) or not language:
        return error(400, '"language" must be a language code, e.g. "es"')
    cid = request.match_info["conversation_id"]
    try:
        await request.app[SERVICE].set_reply_language(cid, language)
    except NotFound:
        return error(404, "no such conversation in the queue")
    except NotOffered as exc:
        return error(400, str(exc))
    except Conflict as exc:
        return error(409, str(exc))
    view = await conversation_view(request.app, cid)
    assert view is not None
    keys = ("conversation_id", "language", "language_name", "reply_language", "reply_language_name")
    return web.json_response({k: view[k] for k in keys})


async def canned_replies(request: web.Request) -> web.Response:
    await _agent(request)
    language = request.query.get("language", SOURCE_LANGUAGE)
    if language not in texts.offered_languages():
        return error(400, f"pick one of the languages offered: {', '.join(texts.offered_languages())}")
    replies = texts.canned_replies(request.app[CONFIG].data_dir, language)
    return web.json_response({"language": language, "replies": replies})


async def ratings(request: web.Request) -> web.Response:
    await _agent(request)
    return web.json_response(await request.app[STORE].ratings())


async def events(request: web.Request) -> web.WebSocketResponse:
    """Live events: queued, ticket, claimed, released, transferred, message, closed (JSON, one per frame).

    Only from the console's own origin; closed (4401) once the session or token no longer holds."""
    check_websocket_origin(request)
    agent = await _agent(request)
    ws = web.WebSocketResponse(heartbeat=30.0)
    await ws.prepare(request)
    store = request.app[STORE]

    async def heartbeat() -> None:
        # ends on `ws.closed` too: a cancel can be lost inside redis-py (bot/background.py)
        while not ws.closed:
            await store.mark_online(agent.name)
            await asyncio.sleep(ONLINE_HEARTBEAT)
            if not ws.closed and not await still_authorized(request, agent):  # signed out, revoked, expired
                await ws.close(code=4401, message=b"signed out")

    beats = asyncio.create_task(heartbeat())
    async with request.app[HUB].subscribe() as queue:
        await ws.send_json({"type": "hello", "agent": agent.name})
        reader = asyncio.create_task(_drain_client(ws))
        getter: asyncio.Task[Any] | None = None
        try:
            while not ws.closed:
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                event = getter.result()
                if event is None:
                    await ws.close(code=1013, message=b"fell behind: reload the queue")
                    break
                await ws.send_json(event)
        finally:
            for task in (reader, beats, getter):
                if task is not None:
                    task.cancel()
            with contextlib.suppress(Exception):
                await ws.close()
    return ws


async def _drain_client(ws: web.WebSocketResponse) -> None:
    """Read (and ignore) client frames until it closes; the websocket is one-way."""
    async for msg in ws:
        if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
            break


def setup_api(app: web.Application) -> None:
    conv = "/api/conversations/{conversation_id}"
    app.router.add_get("/api/queue", get_queue)
    app.router.add_get("/api/ratings", ratings)
    app.router.add_get("/api/canned_replies", canned_replies)
    app.router.add_get("/api/events", events)
    app.router.add_get(conv, get_conversation)
    app.router.add_post(conv + "/claim", claim)
    app.router.add_post(conv + "/messages", post_message)
    app.router.add_post(conv + "/release", release)
    app.router.add_post(conv + "/transfer", transfer)
    app.router.add_post(conv + "/close", close)
    app.router.add_post(conv + "/language", set_language)

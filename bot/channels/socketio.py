"""The web chat's socket.io channel, where only the server hands out session ids.

Rasa's `SocketIOInput` lets the client pick `session_id` and joins it to the room of that name, so
a client that knew (or guessed) another's id read their conversation live and wrote into it. Here:

- the server issues every session id (`IdentityKey.issue_session()`: random, signed with
  IDENTITY_SECRET); a `session_request` carrying anything else (an id it did not sign, another
  conversation's id) gets a fresh one. The page keeps the id in localStorage, so a reload resumes
  the conversation;
- the conversation (tracker and room) is `IdentityKey.conversation_id("socketio", session_id)`: the
  id that the console, logs and Redis show cannot be presented as a session id, it is not signed;
- a connection speaks only for the session it was given: a `user_uttered` naming any other
  `session_id` is dropped, and bot messages go only to the sockets in the conversation's room;
- a message over the character limit, or over the rate limits (per conversation and per client
  address, `bot/channels/ratelimit.py`), gets a polite notice instead of an answer; client
  `metadata` is ignored (the actions would trust a `media_url` or a location pin in it);
- a "/intent" text is read as typed text unless a button offered it (`bot/channels/offered.py`);
- a rated answer (issue #18) reaches the page with its own buttons as `quick_replies` and its two
  feedback buttons as `feedback` (`{answer, question, options: [{value, title, label, payload}]}`,
  labels from data/feedback/messages.yml), which the widget draws as a rating under the answer;
- the pinned notice (`bot.broadcasts.notice`, public: no personal data) goes to a socket as a `notice`
  event (its text, link and expiry, or null) when its session is confirmed and whenever the widget
  sends `notice_request` (every minute, and after each reply), for the web chat's banner.

Replicas: the server's client manager is python-socketio's `AsyncRedisManager` on the channel's
Redis, so an emit on one Rasa replica (a bot or agent reply, a notice) is published there and
delivered by whichever replica holds the citizen's socket. Each replica subscribes before it
serves, so nothing emitted after start-up is missed.

Everything else is Rasa's: the `socketio` name and /socket.io path, the `user_uttered` and
`bot_uttered` events, `session_persistence`, and `jwt_key` (SOCKETIO_JWT_SECRET) for sites that
sign their users in. python-socketio stays pinned at 5.9.0 (rasa#13027, see requirements.txt).
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import logging
import time
from dataclasses import dataclass
from typing import Any

import rasa.core.channels.channel
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from bot.broadcasts.notice import NoticeStore
from bot.channels.base import ChannelConfigError, OnNewMessage
from bot.channels.feedback import split_feedback, web_feedback
from bot.channels.offered import OfferedPayloads, button_payloads
from bot.channels.ratelimit import client_address, retry_after
from bot.channels.store import STORE_ERRORS, ref
from bot.channels.web import WebChannel, WebChannelOptions
from bot.channels.wording import TextsError, load_texts
from bot.content.agency import SOURCE_LANGUAGE, load_agency
from bot.feedback.answers import RATING_KEY
from bot.feedback.texts import FeedbackFileError, FeedbackTexts
from bot.feedback.texts import load_texts as load_feedback_texts
from bot.language.switch import language_switch
from bot.subscriptions.keywords import keyword_reply
from bot.tracker_store import StoreUnavailable

log = logging.getLogger(__name__)

# The Redis pub/sub channel every replica's socket.io server publishes its emits on.
PUBSUB_CHANNEL = "civic:socketio"
SUBSCRIBE_TIMEOUT_SECONDS = 10.0
NOTICE_CACHE_SECONDS = 2.0  # the pinned notice, read from Redis at most this often per process


async def subscribed(sio: AsyncServer, timeout: float = SUBSCRIBE_TIMEOUT_SECONDS) -> None:
    """Start the Redis manager's listener now (python-socketio waits for the first connection) and
    wait until it is subscribed, so an emit from another replica is never published into the void."""
    manager = sio.manager
    if not isinstance(manager, AsyncRedisManager) or sio.manager_initialized:
        return
    sio.manager_initialized = True
    manager.initialize()
    deadline = asyncio.get_running_loop().time() + timeout
    while not manager.pubsub.subscribed:
        if asyncio.get_running_loop().time() > deadline:
            log.error(
                "socketio: not subscribed to Redis after %.0fs; replies via other replicas may be lost",
                timeout,
            )
            return
        await asyncio.sleep(0.05)


@dataclass
class Connection:
    """What one socket was given: its client's address, and its session once it asked for one."""

    address: str
    session_id: str = ""
    conversation_id: str = ""


@dataclass(frozen=True)
class RatingTexts:
    """The words of the web chat's rating: its question, and the buttons' accessible names
    (data/feedback/messages.yml, re-read when staff edit it)."""

    question: str

    @classmethod
    def load(cls) -> RatingTexts:
        """Read at start, so a broken file stops Rasa with its name rather than a citizen's answer."""
        try:
            load_feedback_texts()
            return cls(load_texts().feedback_question)
        except (TextsError, FeedbackFileError) as exc:
            raise ChannelConfigError(f"socketio: {exc}") from None

    @property
    def labels(self) -> FeedbackTexts:
        return load_feedback_texts()

    def in_language(self, language: str) -> tuple[FeedbackTexts, str]:
        """The buttons' names and the question in the reader's `language` (the answer's `rating` says it)."""
        if language == SOURCE_LANGUAGE:
            return self.labels, self.question
        return load_feedback_texts(language=language), load_texts(language=language).feedback_question


class CivicSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output (to the conversation's room), remembering the buttons it offers.

    A citizen's turn is `held`: its replies wait until Rasa stored the turn (`release`), so a turn
    whose save fails says only "please send that again", never an answer that was not kept (the
    citizen would not resend, and the message would be lost). Other senders (an agent's reply
    through Rasa's HTTP API) are not held.
    """

    def __init__(
        self, sio: AsyncServer, bot_message_evt: str, offered: OfferedPayloads, rating: RatingTexts
    ) -> None:
        super().__init__(sio, bot_message_evt)
        self.offered = offered
        self.rating = rating
        self.held: list[tuple[str, dict[str, Any]]] | None = None

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        if self.held is not None:
            self.held.append((recipient_id, dict(message)))
            return
        await self.offered.remember(recipient_id, button_payloads(message))
        await super().send_response(recipient_id, message)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Rasa's paragraphs and quick replies; a rated answer's feedback buttons as `feedback`."""
        own, rating = split_feedback(buttons)
        given = kwargs.get(RATING_KEY)
        if not rating or not isinstance(given, dict):
            await super().send_text_with_buttons(recipient_id, text, buttons, **kwargs)
            return
        parts = (text or "").strip().split("\n\n")
        for part in parts[:-1]:
            await self._send_message(recipient_id, {"text": part, "quick_replies": []})
        await self._send_message(
            recipient_id,
            {
                "text": parts[-1],
                "quick_replies": [
                    {"content_type": "text", "title": b.get("title", ""), "payload": b.get("payload", "")}
                    for b in own
                ],
                "feedback": web_feedback(
                    given, rating, *self.rating.in_language(str(given.get("language") or "en"))
                ),
            },
        )

    async def release(self) -> None:
        """Send what the turn said, now that it is stored."""
        held, self.held = self.held or [], None
        for recipient_id, message in held:
            await self.send_response(recipient_id, message)


async def _settled(result: Any) -> None:
    """python-socketio 5.9 enters and leaves rooms synchronously, later versions return a coroutine."""
    if inspect.isawaitable(result):
        await result


class CivicSocketIOInput(WebChannel, SocketIOInput):
    """Rasa's socket.io channel with server-issued sessions, limits and offered-only payloads."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> CivicSocketIOInput:
        credentials = credentials or {}
        return cls(
            WebChannelOptions.from_credentials(cls.name(), credentials),
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            namespace=credentials.get("namespace"),
            session_persistence=bool(credentials.get("session_persistence", False)),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            jwt_key=credentials.get("jwt_key"),
            jwt_method=credentials.get("jwt_method", "HS256"),
        )

    def __init__(self, options: WebChannelOptions, **rasa_options: Any) -> None:
        super().__init__(**rasa_options)
        self._adopt(options, self.name())
        self.rating_texts = RatingTexts.load()
        self.languages = load_agency().languages  # the switches the widget may send
        self.connections: dict[str, Connection] = {}
        self._in_order: dict[str, asyncio.Lock] = {}  # per socket: its messages one at a time
        self._notice: tuple[float, dict[str, Any] | None] = (float("-inf"), None)  # read at, body

    def get_output_channel(self) -> CivicSocketIOOutput | None:
        if self.sio is None:
            super().get_output_channel()  # Rasa's warning: no socket server in this process
            return None
        return CivicSocketIOOutput(self.sio, self.bot_message_evt, self.offered, self.rating_texts)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        # cors_allowed_origins=[]: as in Rasa, the page may be on another origin (SOCKETIO_JWT_SECRET
        # is how a site restricts who connects).
        manager = AsyncRedisManager(self.store.config.url, channel=PUBSUB_CHANNEL)
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[], client_manager=manager)
        webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        namespace = self.namespace

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any] | None) -> bool:
            if self.jwt_key and not self.valid_jwt(auth):
                return False
            request = environ.get("sanic.request")
            peer = request.ip if request is not None else str(environ.get("REMOTE_ADDR", ""))
            forwarded = environ.get("HTTP_X_FORWARDED_FOR")
            self.connections[sid] = Connection(client_address(peer, forwarded, self.proxies))
            return True

        @sio.on("disconnect", namespace=namespace)
        async def disconnect(sid: str) -> None:
            self.connections.pop(sid, None)
            self._in_order.pop(sid, None)

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any) -> None:
            await self.start_session(sid, data)

        @sio.on("notice_request", namespace=namespace)
        async def notice_request(sid: str, _data: Any = None) -> None:
            await self.send_notice(sid)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any) -> None:
            await self.receive(sid, data, on_new_message)

        @webhook.listener("after_server_start")
        async def subscribe(_app: Any, _loop: Any) -> None:
            await subscribed(sio)

        @webhook.listener("after_server_stop")
        async def stop(_app: Any, _loop: Any) -> None:
            await self.store.close()

        return webhook

    def valid_jwt(self, auth: dict[str, Any] | None) -> bool:
        token = auth.get("token") if isinstance(auth, dict) else None
        if not token:
            return False
        payload = rasa.core.channels.channel.decode_bearer_token(token, self.jwt_key, self.jwt_algorithm)
        return bool(payload)

    async def start_session(self, sid: str, data: Any) -> None:
        """Confirm the session the page asked for if this server issued it, else a fresh one."""
        connection = self.connections.get(sid)
        if connection is None or self.sio is None:
            return
        requested = data.get("session_id") if isinstance(data, dict) else None
        if self.identity.valid_session(requested):
            session_id = str(requested)
        else:
            session_id = self.identity.issue_session()
            if requested:
                log.info("socketio: a session id this server did not issue was replaced by a fresh one")
        connection.session_id = session_id
        if self.session_persistence:
            conversation_id = self.identity.conversation_id(self.name(), session_id)
            if connection.conversation_id and connection.conversation_id != conversation_id:
                # A second request on one socket ("New chat"): it no longer hears the first.
                await _settled(self.sio.leave_room(sid, connection.conversation_id, namespace=self.namespace))
            connection.conversation_id = conversation_id
            await _settled(self.sio.enter_room(sid, conversation_id, namespace=self.namespace))
        await self.sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
        await self.send_notice(sid)

    async def send_notice(self, sid: str) -> None:
        """The pinned notice, or null when there is none, to this socket only (for the banner)."""
        if self.sio is None or sid not in self.connections:
            return
        read_at, body = self._notice
        if time.monotonic() - read_at > NOTICE_CACHE_SECONDS:  # many sockets (or one flooding) read once
            try:
                notice = await NoticeStore(self.store.client).current()
            except Exception as exc:  # Redis down: the banner stays as it is until the next request
                log.warning("socketio: the pinned notice could not be read: %s", type(exc).__name__)
                return
            body = notice.public() if notice else None
            self._notice = (time.monotonic(), body)
        await self.sio.emit("notice", body, room=sid, namespace=self.namespace, ignore_queue=True)

    async def conversation_of(self, sid: str, data: dict[str, Any]) -> str | None:
        """The conversation this socket may speak in, or None for a message it may not send."""
        connection = self.connections.get(sid)
        if connection is None or self.sio is None:
            return None
        if not self.session_persistence:
            # Rasa's behaviour without persistence: a conversation per connection.
            if not connection.conversation_id:
                connection.conversation_id = self.identity.conversation_id(self.name(), sid)
                await _settled(self.sio.enter_room(sid, connection.conversation_id, namespace=self.namespace))
            return connection.conversation_id
        claimed = data.get("session_id")
        if (
            not connection.session_id
            or not isinstance(claimed, str)
            or not hmac.compare_digest(claimed.encode("utf-8"), connection.session_id.encode("utf-8"))
        ):
            log.warning("socketio: refused a message for a session this connection was not given")
            return None
        return connection.conversation_id

    async def receive(self, sid: str, data: Any, on_new_message: OnNewMessage) -> None:
        """Handle a socket's messages in the order they arrived.

        python-socketio runs every event in a task of its own, and the steps before Rasa's lock
        (session check, rate limit, offered payloads) await Redis on pooled connections: two
        messages sent back to back could overtake each other there. `asyncio.Lock` is first come,
        first served, and each task reaches it before its first await.
        """
        async with self._in_order.setdefault(sid, asyncio.Lock()):
            await self._receive(sid, data, on_new_message)

    async def _receive(self, sid: str, data: Any, on_new_message: OnNewMessage) -> None:
        if not isinstance(data, dict):
            return
        conversation_id = await self.conversation_of(sid, data)
        text = data.get("message")
        if conversation_id is None or not isinstance(text, str):
            return
        connection = self.connections.get(sid)
        if connection is None:  # gone meanwhile
            return
        limiter = self.limiter
        wait = await limiter.take(
            (
                limiter.conversation(conversation_id, self.limits.conversation),
                limiter.address(self.name(), connection.address, self.limits.web_address),
            )
        )
        # The widget says which language it shows (docs/channels.md): the channel's own notices follow it.
        shown = data.get("language")
        notices = self.notices.in_language(shown if isinstance(shown, str) else None)
        if wait:
            log.info("socketio: rate-limited %s", ref(conversation_id))
            await self.notify(sid, notices.rate_limited(retry_after(wait)))
            return
        if len(text) > self.limits.max_message_chars:
            await self.notify(sid, notices.too_long(self.limits.max_message_chars))
            return
        output = self.get_output_channel()
        if output is None:
            return
        try:  # STOP, START, HELP...: answered here, never by Rasa (bot/subscriptions/keywords.py)
            reply = await keyword_reply(self.store.client, conversation_id, self.name(), text)
        except STORE_ERRORS:
            await self.notify(sid, notices.store_unavailable)
            return
        if reply:
            await output.send_response(conversation_id, {"text": reply})
            return
        switch = language_switch(text, self.languages)  # the widget's own payload (bot/language/switch.py)
        message = switch or await output.offered.citizen_text(conversation_id, text)
        output.held = []
        try:
            await on_new_message(
                UserMessage(message, output, conversation_id, input_channel=self.name(), metadata=None)
            )
        except StoreUnavailable:  # not stored (bot/tracker_store.py): the citizen sends it again
            log.warning("socketio: the conversation store was unavailable for %s", ref(conversation_id))
            await self.notify(sid, notices.store_unavailable)
            return
        await output.release()

    async def notify(self, sid: str, text: str) -> None:
        """A notice from the channel itself, to this socket only (not kept in the conversation).

        The socket is held by this process, so the notice goes to it directly, not through the Redis
        manager: the "please send that again" notice is sent when Redis is down, and a publish
        then fails (python-socketio logs "giving up") and the citizen would hear nothing.
        """
        if self.sio is not None:
            await self.sio.emit(
                self.bot_message_evt, {"text": text}, room=sid, namespace=self.namespace, ignore_queue=True
            )

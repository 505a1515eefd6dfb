"""Multi-turn conversations as a citizen has them, each a short script in tests/conversations/*.yml.

Every script runs against the real stack (Redis, the action server, Rasa with the trained model)
from a fresh sender, over REST and, when the script names it, over socket.io as the web chat
does. At every step the citizen must get what the script says: texts that must appear, texts that
must not, buttons offered, and at most so many messages. The scripts are data so that anyone can
add the conversation that went wrong; the format is in tests/conversations/README.md.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from socketio_support import WebSession, chat
from stack_support import ROOT, RestClient

from bot.stack import Stack

pytestmark = pytest.mark.stack
SCRIPTS = ROOT / "tests" / "conversations"
CHANNELS = ("rest", "socketio")


@dataclass(frozen=True)
class Step:
    user: str
    says: tuple[str, ...] = ()
    never: tuple[str, ...] = ()
    buttons: tuple[str, ...] = ()
    replies: int | None = None

    def problems(self, messages: list[dict[str, Any]]) -> list[str]:
        """What the citizen did not get at this step (empty when all is as the script says)."""
        text = "\n".join(m.get("text") or "" for m in messages).lower()
        offered = [b.get("title", "") for m in messages for b in _buttons(m)]
        found = [f"missing {s!r}" for s in self.says if s.lower() not in text]
        found += [f"unwanted {s!r}" for s in self.never if s.lower() in text]
        found += [f"no button {b!r}" for b in self.buttons if b not in offered]
        if not messages:
            found.append("no reply at all")
        if self.replies is not None and len(messages) > self.replies:
            found.append(f"{len(messages)} messages, at most {self.replies} wanted")
        return found


@dataclass(frozen=True)
class Conversation:
    name: str
    source: str
    steps: tuple[Step, ...]
    channels: tuple[str, ...] = ("rest",)


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    # REST gives "buttons"; Rasa's socket.io channel sends them as "quick_replies"
    return message.get("buttons") or message.get("quick_replies") or []


def _strings(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value or ())


def load_conversations(directory: Path = SCRIPTS) -> list[Conversation]:
    """Every script; a malformed one fails loudly with its file and name rather than being skipped."""
    found: list[Conversation] = []
    for path in sorted(directory.glob("*.yml")):
        for raw in (yaml.safe_load(path.read_text()) or {}).get("conversations") or []:
            name = raw.get("name")
            assert name and raw.get("steps"), f"{path.name}: every conversation needs a name and steps"
            channels = _strings(raw.get("channels", "rest"))
            assert set(channels) <= set(CHANNELS), f"{path.name}: {name}: channels are {CHANNELS}"
            steps = []
            for step in raw["steps"]:
                unknown = set(step) - {"user", "says", "never", "buttons", "replies"}
                assert "user" in step and not unknown, f"{path.name}: {name}: bad step {step}"
                steps.append(
                    Step(
                        str(step["user"]),
                        _strings(step.get("says")),
                        _strings(step.get("never")),
                        _strings(step.get("buttons")),
                        step.get("replies"),
                    )
                )
            found.append(Conversation(name, path.stem, tuple(steps), channels))
    names = [c.name for c in found]
    assert len(names) == len(set(names)), "conversation names must be unique"
    return found


CONVERSATIONS = load_conversations()
CASES = [
    pytest.param(c, channel, id=f"{c.source}: {c.name} [{channel}]")
    for c in CONVERSATIONS
    for channel in c.channels
]


def test_there_are_conversations_to_run() -> None:
    # A suite that found no scripts must fail, not pass quietly.
    assert len(CONVERSATIONS) >= 60, f"only {len(CONVERSATIONS)} conversation scripts in {SCRIPTS}"


@pytest.mark.parametrize(("conversation", "channel"), CASES)
def test_conversation(conversation: Conversation, channel: str, stack: Stack, rest: RestClient) -> None:
    sender = f"conv-{secrets.token_hex(6)}"
    web = WebSession.of(stack)  # the server issues its session id at the first step
    transcript: list[str] = []
    for number, step in enumerate(conversation.steps, 1):
        if channel == "rest":
            messages = rest.send(sender, step.user)
        else:
            messages = asyncio.run(chat(web, step.user))
            assert len(set(web.confirmed)) == 1, "a reloaded page was given a new session"
        transcript.append(f"> {step.user}")
        transcript += [f"  {m.get('text') or ''}" for m in messages]
        problems = step.problems(messages)
        assert not problems, f"step {number}: {'; '.join(problems)}\n" + "\n".join(transcript)

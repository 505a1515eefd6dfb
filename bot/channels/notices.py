"""What the web chat and REST channels say themselves: data/channels/messages.yml.

A message that is too long or comes too fast never reaches the assistant, so the channel answers
it with one of these texts. They are citizens' words, so they live in the data file (shared with
the messaging connectors' texts, `bot/channels/wording.py`), not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.channels.base import ChannelConfigError

MESSAGES_FILE = Path(__file__).resolve().parents[2] / "data" / "channels" / "messages.yml"


@dataclass(frozen=True)
class ChannelNotices:
    """The channel's own replies: a message over the length limit, messages too fast, a turn that
    failed because the conversation store (Redis) could not be reached."""

    too_long_text: str
    rate_limited_forms: dict[str, str]
    store_unavailable: str

    @classmethod
    def load(cls, path: Path = MESSAGES_FILE) -> ChannelNotices:
        raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        forms = raw.get("rate_limited")
        texts_given = all(isinstance(raw.get(key), str) for key in ("too_long", "store_unavailable"))
        if not texts_given or not isinstance(forms, dict) or "other" not in forms:
            raise ChannelConfigError(
                f"{path} needs `too_long` and `store_unavailable` (texts) and `rate_limited`"
                " (with an `other` form)"
            )
        return cls(
            str(raw["too_long"]), {str(k): str(v) for k, v in forms.items()}, str(raw["store_unavailable"])
        )

    def too_long(self, limit: int) -> str:
        return self.too_long_text.replace("{limit}", f"{limit:,}")

    def rate_limited(self, seconds: int) -> str:
        form = (
            self.rate_limited_forms.get("one" if seconds == 1 else "other")
            or self.rate_limited_forms["other"]
        )
        return form.replace("{n}", f"{seconds:,}")

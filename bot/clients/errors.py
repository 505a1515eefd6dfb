"""Every way an agency call can fail.

Actions catch `AgencyUnavailable` and tell the citizen something friendly; the
subclasses let them say something more precise ("no request with that number").
A reason is short and never carries personal data (no address, name or query
string), because it ends up in logs. Which failures become which error is decided
by `bot.clients.transport` (the HTTP call) and `bot.clients.payload` (the body).
"""

from __future__ import annotations

_MAX_REASON = 200


class AgencyUnavailable(Exception):
    """The agency could not answer: actions turn this into "try again later, or call 311"."""

    def __init__(self, api: str, reason: str) -> None:
        self.api = api
        self.reason = reason[:_MAX_REASON]
        super().__init__(f"{api}: {self.reason}")


class NotFound(AgencyUnavailable):
    """The agency answered and has no such thing (404, unknown id or address).

    A subclass, so an action that only catches AgencyUnavailable still fails politely.
    """


class Rejected(AgencyUnavailable):
    """The agency refused the call (4xx), with its own description (e.g. Open311 errors)."""

    def __init__(self, api: str, status: int, description: str) -> None:
        self.status = status
        self.description = description[:_MAX_REASON]
        super().__init__(api, f"HTTP {status}: {self.description}" if description else f"HTTP {status}")

"""The click-counting address that stands in for an entry's source link while it is under test.

`<public Rasa origin>/webhooks/links/go/<entry id>/<variant id>`: served by the `links` input
channel (`bot.channels.links`), which counts the click and sends the citizen on to the entry's own
source. The address names only the entry and the variant: the target is looked up, never taken
from the link, so it cannot be turned into an open redirect, and nothing in it identifies anyone.
"""

from __future__ import annotations

import re
from urllib.parse import quote

LINKS_PATH = "/webhooks/links/go"
_URL_GOES_ON = r"(?![\w/\-?#%=&~+]|\.\w)"  # a longer address that starts with the source is another page


def tracked_link(base: str, entry_id: str, variant: str) -> str:
    """The redirect for `entry_id`'s source as variant `variant` shows it; `base` is Rasa's public origin."""
    return f"{base.rstrip('/')}{LINKS_PATH}/{quote(entry_id, safe='')}/{quote(variant, safe='')}"


def with_tracked_source(text: str, source: str, link: str) -> str:
    """`text` with the entry's source address (wherever it stands whole) replaced by `link`."""
    if not source:
        return text
    return re.sub(re.escape(source) + _URL_GOES_ON, lambda _: link, text)

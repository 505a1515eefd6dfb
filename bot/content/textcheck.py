"""Checks on one piece of reply text: links, phone numbers, balanced formatting, reading level.

Each function returns plain messages (empty when fine), so ``lint`` can attach
the file and line and decide whether a finding is an error or a warning.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Anything that looks like a link, including broken ones ("https:/x", "www.x.org"),
# so a typo in a scheme is reported instead of silently passing as plain text.
_LINK = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]*:/{1,3}|www\.)[^\s<>\"]*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_HOST = re.compile(r"(?i)^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")
_TRAILING = ".,;:!?'\"*_"
_PAIRS = {")": "(", "]": "[", "}": "{"}
# ":)" smileys are no brackets, and a ")" with nothing open after "a" or "1" is a list marker: "a) ... b)".
_SMILEY = re.compile(r"[:;]-?[()]")
_LOOSE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
READING_GRADE_LIMIT = 9.0
# Phone numbers as replies write them: 555-010-2000, (555) 010-2000, +1 555.010.2000 ...
_PHONE_LONG = re.compile(r"(?<![\w+])(?:\+?1[-. ]?)?(?:\(\d{3}\)[-. ]?|\d{3}[-. ])\d{3}[-. ]\d{4}(?![\w-])")
# ... 010-2000 without the area code ...
_PHONE_LOCAL = re.compile(r"(?<![\w-])\d{3}-\d{4}(?![\w-])")
# ... three-digit service numbers (211 to 911, and 988), not part of an amount or a longer number ...
_PHONE_SERVICE = re.compile(r"(?<![\w$.,/-])(?:[2-9]11|988)(?![\w%]|[.,/-]\d)")
# ... and a text-message short code: "text ALERTS to 55311".
_SHORT_CODE = re.compile(r"(?i)\btext\b[^.\n]{0,40}?\bto\s+(\d{4,6})(?![\w-])")


def url_problem(url: str) -> str:
    """Why ``url`` is not an absolute https link a citizen can open, or "" if it is."""
    if not url:
        return "is empty"
    if any(c.isspace() for c in url):
        return "contains a space"
    parts = urlsplit(url)
    if parts.scheme.lower() != "https":
        return "must start with https://"
    if not url.lower().startswith("https://") or not parts.hostname or not _HOST.match(parts.hostname):
        return "is not a well-formed https://host/path address"
    try:
        parts.port  # noqa: B018 - urlsplit only validates the port when asked
    except ValueError:
        return "has an invalid port"
    return ""


def _link_spans(text: str) -> list[tuple[int, int]]:
    """Where link-like tokens are, without sentence punctuation or a closing bracket around them."""
    spans = []
    for match in _LINK.finditer(_EMAIL.sub(lambda m: " " * len(m.group(0)), text)):
        link = match.group(0).rstrip(_TRAILING)
        for close, opening in _PAIRS.items():
            while link.endswith(close) and link.count(close) > link.count(opening):
                link = link[:-1].rstrip(_TRAILING)
        spans.append((match.start(), match.start() + len(link)))
    return spans


def links_in(text: str) -> list[str]:
    return [text[start:end] for start, end in _link_spans(text)]


def phone_numbers_in(text: str) -> list[str]:
    """Every phone number written in ``text``, as written, in order of appearance."""
    found: list[tuple[int, str]] = []
    rest = text
    for pattern in (_PHONE_LONG, _PHONE_LOCAL, _PHONE_SERVICE):
        for match in pattern.finditer(rest):
            found.append((match.start(), match.group(0)))
        # Blank what was found, so 010-2000 inside 555-010-2000 is not found again.
        rest = pattern.sub(lambda m: " " * len(m.group(0)), rest)
    found += [(m.start(1), m.group(1)) for m in _SHORT_CODE.finditer(rest)]
    return [number for _, number in sorted(found)]


def phone_digits(number: str) -> str:
    """The digits that identify ``number``: 555-010-2000, (555) 010 2000 and +1 555 010 2000 agree."""
    digits = "".join(c for c in number if c.isdigit())
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def site_addresses_in(text: str, domain: str) -> list[str]:
    """Every mention of a page on ``domain`` or its subdomains, with or without https:// or www."""
    pattern = re.compile(
        r"(?i)(?<![\w@.-])(?:[a-z][a-z0-9+.-]*:/{0,3})?(?:[a-z0-9-]+\.)*"
        + re.escape(domain)
        + r"(?![\w-]|\.[a-z0-9])(?:[/?#][^\s<>\"]*)?"
    )
    found = []
    for match in pattern.finditer(text):
        address = match.group(0).rstrip(_TRAILING)
        while address.endswith(")") and address.count(")") > address.count("("):
            address = address[:-1].rstrip(_TRAILING)
        found.append(address)
    return found


def site_address_key(address: str) -> str:
    """``address`` without scheme, ``www.`` or a final slash, host in lowercase, for comparing."""
    rest = re.sub(r"(?i)^[a-z][a-z0-9+.-]*:/{0,3}", "", address.strip())
    host, slash, path = rest.partition("/")
    host = host.lower().removeprefix("www.")
    return (host + slash + path).rstrip("/")


def link_problems(text: str) -> list[str]:
    return [f"link {link!r} {problem}" for link in links_in(text) if (problem := url_problem(link))]


def _without_links(text: str) -> str:
    """The text with links and e-mail addresses blanked: their _ ( ) are not formatting."""
    chars = list(text)
    for start, end in _link_spans(text):
        chars[start:end] = " " * (end - start)
    return _EMAIL.sub(lambda m: " " * len(m.group(0)), "".join(chars))


def _is_list_marker(text: str, index: int) -> bool:
    """True for the ")" of "a)" or "2)" standing alone as a word."""
    before = text[max(0, index - 2) : index]
    return before[-1:].isalnum() and (len(before) == 1 or before[0].isspace())


def bracket_problems(text: str) -> list[str]:
    stack: list[str] = []
    plain = _SMILEY.sub("  ", _without_links(text))
    for index, char in enumerate(plain):
        if char in "([{":
            stack.append(char)
        elif char in _PAIRS:
            if stack and stack[-1] == _PAIRS[char]:
                stack.pop()
            elif not (char == ")" and _is_list_marker(plain, index)):
                return [f"{char!r} without a matching {_PAIRS[char]!r}"]
    return [f"{stack[-1]!r} is never closed"] if stack else []


def quote_problems(text: str) -> list[str]:
    problems = []
    if text.count('"') % 2:
        problems.append("odd number of '\"' quotes")
    if text.count("\u201c") != text.count("\u201d"):
        problems.append("unmatched curly quotes \u201c \u201d")
    return problems


def markdown_problems(text: str) -> list[str]:
    """Emphasis markers that come in odd numbers show up as stray * or _ in the chat."""
    plain = _without_links(text)
    problems = []
    if plain.count("**") % 2:
        problems.append("odd number of '**' (bold is **like this**)")
    elif plain.replace("**", "").count("*") % 2:
        problems.append("odd number of '*' (emphasis is *like this*)")
    if len(_LOOSE_UNDERSCORE.findall(plain)) % 2:
        problems.append("odd number of '_' (emphasis is _like this_)")
    return problems


def formatting_problems(text: str) -> list[str]:
    return bracket_problems(text) + quote_problems(text) + markdown_problems(text)


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade of the words a citizen reads (links would count as long words)."""
    import textstat  # imported here: loading its dictionary is only worth it for `content check`

    return float(textstat.flesch_kincaid_grade(_without_links(text)))

"""Reading what citizens type, for the live-lookup actions: pure functions, no I/O, no trackers.

The English words these rules look for are content, in data/language/en.yml (`actions.language`);
the regular expressions are built from those lists once, at import. Output formatting is
`bot.formatting`, opening hours `bot.opening_hours`, a shared location pin `bot.location`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from actions.language import Phrases, load_language, one_of
from bot.clients.facilities import Facility
from bot.clients.open311 import Service
from bot.clients.service_status import ServiceStatus

WORDS = load_language()

# --- words -----------------------------------------------------------------------------------------

_NON_WORD = re.compile(r"[^a-z0-9#@.+\-']+")


def words_only(text: str) -> str:
    """Lower case, words separated by single spaces, punctuation other than # @ . + - ' dropped."""
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def _stem(word: str) -> str:
    word = word.strip(".'-")
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _stems(text: str) -> list[str]:
    return [s for s in (_stem(w) for w in words_only(text).split()) if s]


def contains_phrase(text: str, phrase: str) -> bool:
    """Whole-word, case-insensitive, singular/plural-tolerant: "lamps out" contains "lamp"."""
    words, wanted = _stems(text), _stems(phrase)
    if not wanted:
        return False
    size = len(wanted)
    return any(words[i : i + size] == wanted for i in range(len(words) - size + 1))


def entity_values(message: Mapping[str, Any], entity: str) -> list[str]:
    """Values of one entity in a parsed user message, in order."""
    found = []
    for item in message.get("entities") or []:
        if item.get("entity") == entity and item.get("value") not in (None, ""):
            found.append(str(item["value"]).strip())
    return found


# --- cancel, skip ----------------------------------------------------------------------------------


def _whole_message(phrases: Phrases, before_limit: str) -> re.Pattern[str]:
    """^ before-words (`before_limit` of them), one phrase, any after-words $, on `_bare` text."""
    before, after = one_of(phrases.before), one_of(phrases.after)
    return re.compile(rf"^(?:{before}\s+){before_limit}{one_of(phrases.phrases)}(?:\s+{after})*$")


_CANCEL = _whole_message(WORDS.cancel, "*")
_SKIP = _whole_message(WORDS.skip, "?")


def _bare(text: str) -> str:
    return " ".join(re.sub(r"[^a-z'/ ]+", " ", text.lower()).split())


def is_cancel(text: str) -> bool:
    """The whole message asks to stop: "cancel", "stop", "never mind", "forget it", "nvm pls"."""
    return bool(_CANCEL.match(_bare(text)))


def is_skip(text: str) -> bool:
    """The citizen declines an optional question: "skip", "no thanks", "rather not"."""
    return bool(_SKIP.match(_bare(text)))


# --- what a form never takes as an answer --------------------------------------------------------

FORM_WORDS = WORDS.forms
_RESTART = _whole_message(FORM_WORDS.restart, "*")
_MENU = _whole_message(FORM_WORDS.menu, "*")
_SMALL_TALK = _whole_message(FORM_WORDS.small_talk, "*")
_QUESTION = re.compile(
    rf"^(?:{one_of(FORM_WORDS.question_openers)}\s+)*{one_of(FORM_WORDS.question_words)}(?:'s|'re|'ll)?(?:\s|$)"
)


def is_restart(text: str) -> bool:
    """The whole message asks to begin again: "start over", "let's start again"."""
    return bool(_RESTART.match(_bare(text)))


def is_menu(text: str) -> bool:
    """The whole message asks for the menu: "menu", "back to the main menu"."""
    return bool(_MENU.match(_bare(text)))


def is_small_talk(text: str) -> bool:
    """The whole message is an acknowledgement or a pleasantry ("ok", "thanks!", "yes"): no answer."""
    return bool(_SMALL_TALK.match(_bare(text)))


def is_question(text: str) -> bool:
    """A question rather than an answer: it ends with "?" or opens like one ("wait, is City Hall open")."""
    return text.strip().endswith("?") or bool(_QUESTION.match(_bare(text)))


def never_an_answer(text: str) -> bool:
    """Never stored in a form's field, whatever was asked: stop, start over, menu, small talk."""
    return is_cancel(text) or is_restart(text) or is_menu(text) or is_small_talk(text)


# --- request numbers -------------------------------------------------------------------------------

_MARKERS, _GLUED = one_of(WORDS.number_markers), one_of(WORDS.glued_markers)
_MARKED_NUMBER = re.compile(
    rf"(?:\b{_MARKERS}\b\.?\s*[-#:]?\s*|#\s*|\b{_GLUED}-?)(\d{{5,12}})\b", re.IGNORECASE
)
_BARE_NUMBER = re.compile(r"(?<![\d.+\-/])\b(\d{5,12})\b(?![\d./\-])")


def request_number(text: str) -> str | None:
    """The agency's request number in free text: "request 512077", "#512077", "SR-512077", "512077".

    A number after a marker wins; otherwise a lone 5-12 digit number, but not when there are
    several (a phone number or a zip code next to it makes a guess unsafe).
    """
    marked = _MARKED_NUMBER.search(text)
    if marked:
        return marked.group(1)
    bare = _BARE_NUMBER.findall(text)
    return bare[0] if len(bare) == 1 else None


# --- contact details -------------------------------------------------------------------------------

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?\(?\d[\d\s().\-]{5,20}\d")


def contact_details(text: str) -> tuple[str, str] | None:
    """("email", "a@b.org") or ("phone", "+1 555 010 3110" as digits) found in the text, else None."""
    email = _EMAIL.search(text)
    if email:
        return "email", email.group(0).strip(".")
    for candidate in _PHONE.findall(text):
        digits = re.sub(r"\D", "", candidate)
        if 7 <= len(digits) <= 15:
            return "phone", ("+" if candidate.lstrip("(").startswith("+") else "") + digits
    return None


# --- locations -------------------------------------------------------------------------------------


def looks_like_location(text: str) -> bool:
    """Enough to find a place: some letters or a number and a word ("12 Elm St", "corner of Oak and 3rd")."""
    words = words_only(text).split()
    return len(" ".join(words)) >= 4 and any(any(c.isalpha() for c in w) for w in words) and not is_skip(text)


_STREET = one_of(FORM_WORDS.street_words)
_ORDINAL = r"\d+(?:st|nd|rd|th)"
_ADDRESS = re.compile(rf"\b\d{{1,6}}[a-z]?\s+(?:[a-z][a-z'.\-]*\s+){{0,3}}?{_STREET}\b\.?", re.IGNORECASE)
_CONNECTOR = r"\s*(?:\band\b|&|/|\bat\b)\s*"
_CORNER_NAMED = re.compile(
    rf"\b{one_of(FORM_WORDS.corner_words)}\s+(?:the\s+)?\S+(?:\s+\S+)?{_CONNECTOR}\S+", re.IGNORECASE
)
# Two streets side by side: a street word or an ordinal on each side of "and" ("Oak Ave and 3rd St"),
# or a plain name beside an ordinal ("oak and 3rd").
_SIDE = rf"(?:[a-z][a-z'.\-]*\s+{_STREET}|{_ORDINAL}(?:\s+{_STREET})?)"
_CORNER = re.compile(
    rf"\b(?:{_SIDE}{_CONNECTOR}{_SIDE}|[a-z][a-z'.\-]*{_CONNECTOR}{_ORDINAL}|{_ORDINAL}{_CONNECTOR}[a-z]{{3,}})\b",
    re.IGNORECASE,
)


def street_address(text: str) -> str | None:
    """The first house number and street in the text ("12 Elm St", "140 Elm Street"), as typed."""
    found = _ADDRESS.search(text)
    return found.group(0).rstrip(".") if found else None


def street_corner(text: str) -> str | None:
    """A corner in the text ("corner of Oak and 3rd", "Oak Ave and 3rd St", "8th Ave & Judah St")."""
    found = _CORNER_NAMED.search(text) or _CORNER.search(text)
    return found.group(0) if found else None


def is_place(text: str, landmarks: Iterable[str] = ()) -> bool:
    """A place a crew can find: a street address, a corner, or a landmark the agency knows.

    `landmarks` are the known places named in the message (the `facility` entities the NLU found):
    "in front of City Hall" is a place, "my cat is sad" or "wait, is it open?" is not.
    """
    if is_skip(text) or never_an_answer(text):
        return False
    if street_address(text) or street_corner(text):
        return True
    return not is_question(text) and any(contains_phrase(text, name) for name in landmarks)


def _content_words(text: str) -> list[str]:
    """Words of three letters or more that are not stopwords."""
    words = (w.strip(".-").replace("'", "") for w in words_only(text).split())
    return [w for w in words if sum(c.isalpha() for c in w) >= 3 and w not in WORDS.stopwords]


def describes(text: str) -> bool:
    """Says something about a problem: not a question, not small talk, at least one real word."""
    return not (is_question(text) or never_an_answer(text)) and bool(_content_words(text))


# --- the details of a first message ----------------------------------------------------------------

_CLAUSES = re.compile(r"(?<=[^\s@])[,;:!?]+\s+|\.\s+|\s+-+\s+|\n+")
_ASKS_TO_FILE = re.compile(rf"\b{one_of(FORM_WORDS.report_verbs)}\b", re.IGNORECASE)


def problem_details(text: str) -> str | None:
    """The citizen's own description in a first message, without the request to file it and the contact.

    "please report a pothole at 88 Main Street, it's in the bike lane and really deep, my email is
    jo@example.org" -> "it's in the bike lane and really deep". None when only the request is there.
    """
    clauses = [clause.strip(" .") for clause in _CLAUSES.split(text) if clause.strip(" .")]
    kept = [c for c in clauses if not _ASKS_TO_FILE.search(c) and not contact_details(c)]
    if len(kept) == len(clauses):  # no request to file beside it: "graffiti on the wall" is the type
        return None
    details = ", ".join(kept)
    return details if len(_content_words(details)) >= 2 and not is_question(details) else None


def names_a_problem(text: str) -> bool:
    """The text says what is wrong ("a dead raccoon"), not only "I want to report something"."""
    for part in (street_address(text), street_corner(text), _EMAIL.search(text)):
        if part:
            text = text.replace(part if isinstance(part, str) else part.group(0), " ")
    ignored = FORM_WORDS.report_words | FORM_WORDS.place_words | set(FORM_WORDS.question_words)
    return any(w not in ignored and _stem(w) not in ignored for w in _content_words(text))


# --- corrections -----------------------------------------------------------------------------------

FIELDS = WORDS.corrections.fields
_FIELD_WORDS = {word: field for field, words in FIELDS.items() for word in words}
_FIELD_PATTERN = "|".join(sorted((re.escape(w) for w in _FIELD_WORDS), key=len, reverse=True))
_LEAD = rf"^(?:{one_of(WORDS.corrections.openers)}[,.!]?\s+)*"
_CORRECTIONS = (
    re.compile(
        _LEAD + rf"(?:{one_of(WORDS.corrections.asking)}\s+)?"
        rf"{one_of(WORDS.corrections.verbs)}\s+(?:the\s+|my\s+|that\s+)?"
        rf"(?P<field>{_FIELD_PATTERN})\s*(?:to|into|as|:|=|->)\s*(?P<value>.+)$",
        re.IGNORECASE,
    ),
    re.compile(
        _LEAD
        + rf"(?:the\s+|my\s+)?(?P<field>{_FIELD_PATTERN})\s+"
        + one_of(WORDS.corrections.is_words)
        + r"\s+(?:actually\s+)?(?P<value>.+)$",
        re.IGNORECASE,
    ),
    re.compile(
        _LEAD
        + r"(?:wrong\s+(?P<field>address|location|place))\s*[,:;.\-]*\s*"
        + r"(?:it'?s\s+|it\s+is\s+)?(?:at\s+|on\s+)?"
        r"(?P<value>.+)$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^(?:(?:no|sorry|oops)[,.!]?\s+)?actually[,.]?\s+(?:it'?s|it\s+is)\s+(?:at|on|near)\s+(?P<value>.+)$",
        re.IGNORECASE,
    ),
)


def parse_correction(text: str) -> tuple[str, str] | None:
    """("location", "12 Elm St") for "change the address to 12 Elm St"; None when it is no correction.

    Fields: location, description, contact, service_code (as the report form's slots are named).
    """
    stripped = text.strip()
    for pattern in _CORRECTIONS:
        match = pattern.match(stripped)
        if not match:
            continue
        value = match.group("value").strip().rstrip("!?").strip()
        field = match.groupdict().get("field")
        slot = _FIELD_WORDS.get(" ".join(field.lower().split())) if field else "location"
        if slot and value:
            return slot, value
    return None


# --- services (Open311 request types) --------------------------------------------------------------


def _only_place_words(keyword: str) -> bool:
    """ "street", "road": where a problem is, not what it is, so never enough to pick a request type."""
    return all(w in FORM_WORDS.place_words for w in words_only(keyword).split())


def _service_score(text: str, service: Service) -> float:
    words = words_only(text)
    if words == words_only(service.service_name) or words == words_only(service.service_code):
        return 100.0
    score = 0.0
    if service.service_code.lower() in words.split():
        score += 10
    if contains_phrase(text, service.service_name):
        score += 5
    for keyword in service.keywords:
        if not _only_place_words(keyword) and contains_phrase(text, keyword):
            score += 1 + len(_stems(keyword))
    if score == 0:
        ignored = WORDS.stopwords | FORM_WORDS.place_words
        described = {w for w in _stems(service.description) if len(w) > 3 and w not in ignored}
        score = min(2.0, 0.5 * len(described & set(_stems(text))))
    return score


def match_services(text: str, services: Iterable[Service]) -> list[Service]:
    """The services the text most likely means, from the agency's own names, keywords and descriptions.

    One service when the text points clearly at one; several when they tie (ask which); none
    when nothing matches at all.
    """
    scored = [(service, _service_score(text, service)) for service in services]
    best = max((score for _, score in scored), default=0.0)
    if best < 1.0:
        return []
    return [service for service, score in scored if score == best]


# --- facilities, online services, areas ------------------------------------------------------------


def _names(item: Facility | ServiceStatus) -> list[str]:
    return [item.name, item.id, *item.aliases]


def find_by_name(text: str, items: Iterable[Any]) -> list[Any]:
    """Items (facilities, online services) named in the text: exact name first, else the longest phrase."""
    items = list(items)
    exact = [i for i in items if i.matches(text)]
    if exact:
        return exact
    best, found = 0, []
    for item in items:
        length = max((len(_stems(n)) for n in _names(item) if contains_phrase(text, n)), default=0)
        if length > best:
            best, found = length, [item]
        elif length and length == best:
            found.append(item)
    return found


def find_area(text: str, areas: Iterable[str]) -> str | None:
    """The first known area (a place name, a part of an alert's areaDesc) named in the text."""
    for area in sorted({a.strip() for a in areas if a.strip()}, key=len, reverse=True):
        if contains_phrase(text, area):
            return area
    return None


def alert_areas(area_descriptions: Iterable[str]) -> list[str]:
    """ "Riverside; Old Town" -> ["Riverside", "Old Town"]."""
    return [part.strip() for desc in area_descriptions for part in re.split(r"[;,]", desc) if part.strip()]

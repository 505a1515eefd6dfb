"""Reading what citizens type, for the live-lookup actions: pure functions, no I/O, no trackers.

The words these rules look for are content, one file per language (data/language/<code>.yml, read by
`actions.language`). Every function that looks for words takes the conversation's `language`
(English when not given); its regular expressions are built from that language's lists the first
time they are needed, then kept (`rules`). Accents are optional: the text is matched without them
(`unaccented`, which keeps every letter in its place), and what is cut from it (a place, a
correction) is cut from the citizen's own words. Output formatting is `bot.formatting`, opening
hours `bot.opening_hours`, a shared location pin `bot.location`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from actions.language import FormWords, Language, Phrases, one_of, words_in
from bot.clients.facilities import Facility
from bot.clients.open311 import Service
from bot.clients.service_status import ServiceStatus
from bot.content.agency import SOURCE_LANGUAGE
from bot.days import unaccented

WORDS = words_in(SOURCE_LANGUAGE)  # read at import: a broken English file stops the server at start
FORM_WORDS = WORDS.forms

# --- words -----------------------------------------------------------------------------------------

_NON_WORD = re.compile(r"[^a-z0-9#@.+\-']+")


def words_only(text: str) -> str:
    """Lower case without accents, words separated by single spaces, punctuation but # @ . + - ' dropped."""
    return " ".join(_NON_WORD.sub(" ", unaccented(text.lower())).split())


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


def _bare(text: str) -> str:
    """Lower case letters without accents, ' and / only: what a whole-message phrase is matched on."""
    return " ".join(re.sub(r"[^a-z'/ ]+", " ", unaccented(text.lower())).split())


def _cut(text: str, match: re.Match[str], group: int | str = 0) -> str:
    """What `match` (found in `unaccented(text)`) covers in `text` itself, accents and all."""
    return text[match.start(group) : match.end(group)]


# --- each language's patterns, built once --------------------------------------------------------


def _whole_message(phrases: Phrases, before_limit: str) -> re.Pattern[str]:
    """^ before-words (`before_limit` of them), one phrase, any after-words $, on `_bare` text."""
    before, after = one_of(phrases.before), one_of(phrases.after)
    return re.compile(rf"^(?:{before}\s+){before_limit}{one_of(phrases.phrases)}(?:\s+{after})*$")


@dataclass(frozen=True)
class _Places:
    """Addresses ("12 Elm St", "calle Elm 12") and corners ("corner of Oak and 3rd", "Oak Ave y 3rd St")."""

    addresses: tuple[re.Pattern[str], ...]
    corner_named: re.Pattern[str]
    corner: re.Pattern[str]


_ORDINAL = r"\d+(?:st|nd|rd|th)"  # "3rd St": the city's street names are English in any language
_NAME = r"[a-z][a-z'.\-]*"


def _places(forms: FormWords, stopwords: Iterable[str]) -> _Places:
    street = one_of(forms.street_words)
    addresses = [re.compile(rf"\b\d{{1,6}}[a-z]?\s+(?:{_NAME}\s+){{0,3}}?{street}\b\.?", re.IGNORECASE)]
    connector = rf"\s*(?:\b{one_of(forms.corner_connectors)}\b|&|/)\s*"
    # Two streets side by side: a street word or an ordinal on each side of "and" ("Oak Ave and 3rd St"),
    # or a plain name beside an ordinal ("oak and 3rd").
    side = rf"{_NAME}\s+{street}|{_ORDINAL}(?:\s+{street})?"
    if forms.street_words_first:
        more, street_first = _street_word_first(forms.street_words_first, stopwords)
        addresses += more
        side += f"|{street_first}"
    return _Places(
        addresses=tuple(addresses),
        corner_named=re.compile(
            rf"\b{one_of(forms.corner_words)}\s+(?:the\s+)?\S+(?:\s+\S+)?{connector}\S+", re.IGNORECASE
        ),
        corner=re.compile(
            rf"\b(?:(?:{side}){connector}(?:{side})|{_NAME}{connector}{_ORDINAL}|{_ORDINAL}{connector}[a-z]{{3,}})\b",
            re.IGNORECASE,
        ),
    )


def _street_word_first(
    street_words: tuple[str, ...], stopwords: Iterable[str]
) -> tuple[list[re.Pattern[str]], str]:
    """Where the street word comes before the name: the addresses "calle Elm 12", "avenida Oak #140"
    and "12 calle Elm" (its name ends at a stopword: "12 calle Elm hay un bache"), and one side of a
    corner ("calle Oak y calle Elm")."""
    first = rf"{one_of(street_words)}\.?"
    word = rf"(?!{one_of(stopwords)}\b)[a-z0-9][a-z0-9'.\-]*"
    addresses = [
        re.compile(rf"\b{first}\s+(?:{_NAME}\s+){{1,3}}?(?:#\s*)?\d{{1,6}}[a-z]?\b", re.IGNORECASE),
        re.compile(rf"\b\d{{1,6}}[a-z]?\s+{first}(?:\s+{word}){{1,3}}", re.IGNORECASE),
    ]
    return addresses, rf"{first}\s+[a-z0-9][a-z0-9'.\-]*"


def _corrections(words: Language) -> tuple[re.Pattern[str], ...]:
    """ "change the address to ...", "the address is ...", "wrong address, ...", "actually it's at ...",
    "mejor en ...": each with a `value`, and a `field` when it names one (else it is the location)."""
    corrections = words.corrections
    field_words = (w for field in corrections.fields.values() for w in field)
    field = "|".join(sorted((re.escape(w) for w in field_words), key=len, reverse=True))
    lead = rf"^(?:{one_of(corrections.openers)}[,.!]?\s+)*"
    article = rf"(?:{one_of(corrections.articles)}\s+)?"
    to = rf"(?:\s+{one_of(corrections.to_words)}(?![a-z])|\s*(?::|=|->))\s*"
    is_words = one_of(corrections.is_words)
    patterns = [
        lead + rf"(?:{one_of(corrections.asking)}\s+)?{one_of(corrections.verbs)}\s+{article}"
        rf"(?P<field>{field}){to}(?P<value>.+)$",
        lead + rf"{article}(?P<field>{field})\s+{is_words}\s+(?:actually\s+)?(?P<value>.+)$",
        # English in every language for now: en.yml has no lists for "wrong address", "actually it's at".
        lead + r"wrong\s+(?:address|location|place)\s*[,:;.\-]*\s*(?:it'?s\s+|it\s+is\s+)?(?:at\s+|on\s+)?"
        r"(?P<value>.+)$",
        r"^(?:(?:no|sorry|oops)[,.!]?\s+)?actually[,.]?\s+(?:it'?s|it\s+is)\s+(?:at|on|near)\s+(?P<value>.+)$",
    ]
    if corrections.place_is:
        patterns.append(
            lead + rf"{one_of(corrections.place_is)}[,:;.!\-]*\s+(?:{is_words}\s+)?(?P<value>.+)$"
        )
    return tuple(re.compile(pattern, re.IGNORECASE) for pattern in patterns)


@dataclass(frozen=True)
class Rules:
    """One language's words and the regular expressions built from them."""

    words: Language
    cancel: re.Pattern[str]
    skip: re.Pattern[str]
    restart: re.Pattern[str]
    menu: re.Pattern[str]
    small_talk: re.Pattern[str]
    question: re.Pattern[str]
    marked_number: re.Pattern[str]
    places: _Places
    asks_to_file: re.Pattern[str]
    field_words: Mapping[str, str]  # "address" -> "location"
    corrections: tuple[re.Pattern[str], ...]


@functools.cache
def rules(language: str = SOURCE_LANGUAGE) -> Rules:
    """The patterns of one language, built the first time a message in it is read."""
    words = words_in(language)
    forms = words.forms
    question = (
        rf"^(?:{one_of(forms.question_openers)}\s+)*{one_of(forms.question_words)}(?:'s|'re|'ll)?(?:\s|$)"
    )
    markers, glued = one_of(words.number_markers), one_of(words.glued_markers)
    return Rules(
        words=words,
        cancel=_whole_message(words.cancel, "*"),
        skip=_whole_message(words.skip, "?"),
        restart=_whole_message(forms.restart, "*"),
        menu=_whole_message(forms.menu, "*"),
        small_talk=_whole_message(forms.small_talk, "*"),
        question=re.compile(question),
        marked_number=re.compile(
            rf"(?:\b{markers}\b\.?\s*[-#:]?\s*|#\s*|\b{glued}-?)(\d{{5,12}})\b", re.IGNORECASE
        ),
        places=_places(forms, words.stopwords),
        asks_to_file=re.compile(rf"\b{one_of(forms.report_verbs)}\b", re.IGNORECASE),
        field_words={word: slot for slot, names in words.corrections.fields.items() for word in names},
        corrections=_corrections(words),
    )


# --- cancel, skip ----------------------------------------------------------------------------------


def is_cancel(text: str, language: str = SOURCE_LANGUAGE) -> bool:
    """The whole message asks to stop: "cancel", "stop", "never mind", "forget it", "nvm pls"."""
    return bool(rules(language).cancel.match(_bare(text)))


def is_skip(text: str, language: str = SOURCE_LANGUAGE) -> bool:
    """The citizen declines an optional question: "skip", "no thanks", "rather not"."""
    return bool(rules(language).skip.match(_bare(text)))


# --- what a form never takes as an answer --------------------------------------------------------


def is_restart(text: str, language: str = SOURCE_LANGUAGE) -> bool:
    """The whole message asks to begin again: "start over", "let's start again"."""
    return bool(rules(language).restart.match(_bare(text)))


def is_menu(text: str, language: str = SOURCE_LANGUAGE) -> bool:
    """The whole message asks for the menu: "menu", "back to the main menu"."""
    return bool(rules(language).menu.match(_bare(text)))


def is_small_talk(text: str, language: str = SOURCE_LANGUAGE) -> bool:
    """The whole message is an acknowledgement or a pleasantry ("ok", "thanks!", "yes"): no answer."""
    return bool(rules(language).small_talk.match(_bare(text)))


def is_question(text: str, language: str = SOURCE_LANGUAGE) -> bool:
    """A question rather than an answer: it ends with "?", holds an opening "¿" ("espere, ¿abren hoy"),
    or opens like one ("wait, is City Hall open")."""
    stripped = text.strip()
    return stripped.endswith("?") or "¿" in stripped or bool(rules(language).question.match(_bare(text)))


def never_an_answer(text: str, language: str = SOURCE_LANGUAGE) -> bool:
    """Never stored in a form's field, whatever was asked: stop, start over, menu, small talk."""
    return (
        is_cancel(text, language)
        or is_restart(text, language)
        or is_menu(text, language)
        or is_small_talk(text, language)
    )


# --- request numbers -------------------------------------------------------------------------------

_BARE_NUMBER = re.compile(r"(?<![\d.+\-/])\b(\d{5,12})\b(?![\d./\-])")


def request_number(text: str, language: str = SOURCE_LANGUAGE) -> str | None:
    """The agency's request number in free text: "request 512077", "#512077", "SR-512077", "512077".

    A number after a marker wins; otherwise a lone 5-12 digit number, but not when there are
    several (a phone number or a zip code next to it makes a guess unsafe).
    """
    marked = rules(language).marked_number.search(unaccented(text))
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


def looks_like_location(text: str, language: str = SOURCE_LANGUAGE) -> bool:
    """Enough to find a place: some letters or a number and a word ("12 Elm St", "corner of Oak and 3rd")."""
    words = words_only(text).split()
    return (
        len(" ".join(words)) >= 4
        and any(any(c.isalpha() for c in w) for w in words)
        and not is_skip(text, language)
    )


def street_address(text: str, language: str = SOURCE_LANGUAGE) -> str | None:
    """The first house number and street in the text ("12 Elm St", "calle Elm 12"), as typed."""
    plain = unaccented(text)
    found = [m for m in (p.search(plain) for p in rules(language).places.addresses) if m]
    if not found:
        return None
    return _cut(text, min(found, key=lambda m: m.start())).rstrip(".")


def street_corner(text: str, language: str = SOURCE_LANGUAGE) -> str | None:
    """A corner in the text ("corner of Oak and 3rd", "Oak Ave and 3rd St", "8th Ave & Judah St")."""
    places, plain = rules(language).places, unaccented(text)
    found = places.corner_named.search(plain) or places.corner.search(plain)
    return _cut(text, found) if found else None


def is_place(text: str, landmarks: Iterable[str] = (), language: str = SOURCE_LANGUAGE) -> bool:
    """A place a crew can find: a street address, a corner, or a landmark the agency knows.

    `landmarks` are the known places named in the message (the `facility` entities the NLU found):
    "in front of City Hall" is a place, "my cat is sad" or "wait, is it open?" is not.
    """
    if is_skip(text, language) or never_an_answer(text, language):
        return False
    if street_address(text, language) or street_corner(text, language):
        return True
    return not is_question(text, language) and any(contains_phrase(text, name) for name in landmarks)


def _content_words(text: str, language: str) -> list[str]:
    """Words of three letters or more that are not stopwords."""
    stopwords = words_in(language).stopwords
    words = (w.strip(".-").replace("'", "") for w in words_only(text).split())
    return [w for w in words if sum(c.isalpha() for c in w) >= 3 and w not in stopwords]


def describes(text: str, language: str = SOURCE_LANGUAGE) -> bool:
    """Says something about a problem: not a question, not small talk, at least one real word."""
    return not (is_question(text, language) or never_an_answer(text, language)) and bool(
        _content_words(text, language)
    )


# --- the details of a first message ----------------------------------------------------------------

_CLAUSES = re.compile(r"(?<=[^\s@])[,;:!?]+\s+|\.\s+|\s+-+\s+|\n+")


def problem_details(text: str, language: str = SOURCE_LANGUAGE) -> str | None:
    """The citizen's own description in a first message, without the request to file it and the contact.

    "please report a pothole at 88 Main Street, it's in the bike lane and really deep, my email is
    jo@example.org" -> "it's in the bike lane and really deep". None when only the request is there.
    """
    asks_to_file = rules(language).asks_to_file
    clauses = [clause.strip(" .") for clause in _CLAUSES.split(text) if clause.strip(" .")]
    kept = [c for c in clauses if not asks_to_file.search(unaccented(c)) and not contact_details(c)]
    if len(kept) == len(clauses):  # no request to file beside it: "graffiti on the wall" is the type
        return None
    details = ", ".join(kept)
    return (
        details
        if len(_content_words(details, language)) >= 2 and not is_question(details, language)
        else None
    )


def names_a_problem(text: str, language: str = SOURCE_LANGUAGE) -> bool:
    """The text says what is wrong ("a dead raccoon"), not only "I want to report something"."""
    for part in (street_address(text, language), street_corner(text, language), _EMAIL.search(text)):
        if part:
            text = text.replace(part if isinstance(part, str) else part.group(0), " ")
    forms = words_in(language).forms
    ignored = forms.report_words | forms.place_words | set(forms.question_words)
    return any(w not in ignored and _stem(w) not in ignored for w in _content_words(text, language))


# --- corrections -----------------------------------------------------------------------------------


def parse_correction(text: str, language: str = SOURCE_LANGUAGE) -> tuple[str, str] | None:
    """("location", "12 Elm St") for "change the address to 12 Elm St"; None when it is no correction.

    Fields: location, description, contact, service_code (as the report form's slots are named).
    """
    stripped = text.strip().lstrip("¿¡ ")  # "¿puede cambiar la dirección a ...?"
    plain, found = unaccented(stripped), rules(language)
    for pattern in found.corrections:
        match = pattern.match(plain)
        if not match:
            continue
        value = _cut(stripped, match, "value").strip().rstrip("!?").strip()
        field = match.groupdict().get("field")
        slot = found.field_words.get(" ".join(field.lower().split())) if field else "location"
        if slot and value:
            return slot, value
    return None


# --- services (Open311 request types) --------------------------------------------------------------


@functools.cache
def _service_ignored(language: str) -> tuple[frozenset[str], frozenset[str]]:
    """(place words, place words and stopwords) of `language` and of English: the citizen writes in
    `language`, the agency's request types are written in English."""
    own, source = words_in(language), words_in(SOURCE_LANGUAGE)
    places = own.forms.place_words | source.forms.place_words
    return places, places | own.stopwords | source.stopwords


def _only_place_words(keyword: str, language: str = SOURCE_LANGUAGE) -> bool:
    """ "street", "road": where a problem is, not what it is, so never enough to pick a request type."""
    places, _ = _service_ignored(language)
    return all(w in places for w in words_only(keyword).split())


def _service_score(text: str, service: Service, language: str = SOURCE_LANGUAGE) -> float:
    words = words_only(text)
    if words == words_only(service.service_name) or words == words_only(service.service_code):
        return 100.0
    score = 0.0
    if service.service_code.lower() in words.split():
        score += 10
    if contains_phrase(text, service.service_name):
        score += 5
    for keyword in service.keywords:
        if not _only_place_words(keyword, language) and contains_phrase(text, keyword):
            score += 1 + len(_stems(keyword))
    if score == 0:
        _, ignored = _service_ignored(language)
        described = {w for w in _stems(service.description) if len(w) > 3 and w not in ignored}
        score = min(2.0, 0.5 * len(described & set(_stems(text))))
    return score


def match_services(text: str, services: Iterable[Service], language: str = SOURCE_LANGUAGE) -> list[Service]:
    """The services the text most likely means, from the agency's own names, keywords and descriptions.

    One service when the text points clearly at one; several when they tie (ask which); none
    when nothing matches at all.
    """
    scored = [(service, _service_score(text, service, language)) for service in services]
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

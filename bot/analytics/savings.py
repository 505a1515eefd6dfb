"""Money saved, and the dashboard's wording: agency content in data/analytics/settings.yml.

The figure is deliberately simple so a manager can check it by hand: every contained conversation
(answered without a person) counts as one 311 contact avoided, at the agency's own cost per contact.
The assumption and the cost's source travel with the figure (API and page), never apart from it.
`content check` runs `settings_problems` on the file; the dashboard reads it through the
`bot.datafile` cache, so an edit shows at the next page view.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from bot.datafile import load_yaml_file

SETTINGS_FILE = Path("data/analytics/settings.yml")
CURRENCY = re.compile(r"^[A-Z]{3}$")
CENT = Decimal("0.01")
WORDING: dict[str, tuple[str, ...]] = {  # every text the file must have, and the placeholders it may use
    "intro": (),
    "savings_heading": (),
    "savings_figure": ("saved", "calls"),
    "savings_assumption": ("cost",),
    "emerging_heading": (),
    "emerging_intro": (),
    "emerging_flag": (),
    "emerging_none": (),
    "draft_faq": (),
    "draft_rumor": (),
    "no_data": (),
    "chart_label": ("title",),
    "chart_activity": ("span",),
    "chart_containment": ("span",),
    "chart_handoffs": ("span",),
    "chart_top_answers": ("span",),
    "chart_channels": ("span",),
    "bar_helpful": ("served", "rate"),
    "bar_not_rated": ("served",),
}
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class AnalyticsSettingsError(ValueError):
    """The settings file cannot be used; the message names the file, the key and what to fix."""

    def __init__(self, message: str, key: str = "", problem: str = "") -> None:
        super().__init__(message)
        self.key = key  # "source.url"; empty when the file itself cannot be read
        self.problem = problem or message


@dataclass(frozen=True)
class AnalyticsSettings:
    cost_per_contact: Decimal
    currency: str
    source_text: str
    source_url: str
    wording: Mapping[str, str]
    channel_names: Mapping[str, str] = field(default_factory=dict)
    reason_names: Mapping[str, str] = field(default_factory=dict)

    def money(self, amount: Decimal) -> str:
        """ "USD 1,234.50": the currency code, never a guessed symbol."""
        return f"{self.currency} {amount.quantize(CENT, ROUND_HALF_UP):,}"

    def channel(self, name: str) -> str:
        """A channel's name for staff ("SMS" for twilio); its id when the file does not name it."""
        return self.channel_names.get(name, name)

    def reason(self, name: str) -> str:
        """A handoff reason in words ("Asked for a person" for requested); else the reason's id."""
        return self.reason_names.get(name, name)

    def say(self, key: str, **values: Any) -> str:
        """The wording `key` with its placeholders filled in."""
        return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), self.wording[key])


def _fail(path: Path, key: str, problem: str) -> AnalyticsSettingsError:
    return AnalyticsSettingsError(f"{path}: {key}: {problem}", key, problem)


def _text(raw: Mapping[str, Any], key: str, path: Path, where: str = "") -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, where + key, "must be a non-empty text")
    return value.strip()


def _cost(raw: Mapping[str, Any], path: Path) -> Decimal:
    value = raw.get("cost_per_contact")
    try:
        cost = Decimal(str(value)) if isinstance(value, int | float) and not isinstance(value, bool) else None
    except InvalidOperation:
        cost = None
    if cost is None or not cost.is_finite() or cost <= 0:
        raise _fail(path, "cost_per_contact", "must be a number above 0, e.g. 4.75")
    return cost


def _wording(raw: Any, path: Path) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise _fail(path, "wording", f"must list the texts {', '.join(WORDING)}")
    wording = {}
    for key, allowed in WORDING.items():
        text = _text(raw, key, path, "wording.")
        unknown = sorted(set(PLACEHOLDER.findall(text)) - set(allowed))
        if unknown:
            usable = ", ".join(f"{{{name}}}" for name in allowed) or "none"
            raise _fail(path, f"wording.{key}", f"unknown placeholder {{{unknown[0]}}} (usable: {usable})")
        wording[key] = text
    extra = sorted(set(raw) - set(WORDING))
    if extra:
        raise _fail(path, f"wording.{extra[0]}", "is not a text the dashboard shows (remove it)")
    return wording


def _names(raw: Any, path: Path, key: str) -> dict[str, str]:
    """An optional `names.<key>` mapping of ids to words (both non-empty texts)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _fail(path, f"names.{key}", "must map ids to names, e.g. twilio: SMS")
    for name, words in raw.items():
        if not isinstance(name, str) or not isinstance(words, str) or not words.strip():
            raise _fail(path, f"names.{key}.{name}", "must be a non-empty text")
    return {name: words.strip() for name, words in raw.items()}


def parse_settings(raw: Any, path: Path) -> AnalyticsSettings:
    """The file's YAML as settings; raises AnalyticsSettingsError naming the file and the key."""
    if not isinstance(raw, dict):
        raise _fail(path, "(top level)", "must be a mapping with cost_per_contact, currency, source, wording")
    currency = _text(raw, "currency", path)
    if not CURRENCY.match(currency):
        raise _fail(path, "currency", f"{currency!r} is not a three-letter ISO 4217 code such as USD")
    source = raw.get("source")
    if not isinstance(source, dict):
        raise _fail(path, "source", "must have a text (where the cost comes from) and a url")
    url = _text(source, "url", path, "source.")
    if not url.startswith("https://") or any(c.isspace() for c in url):
        raise _fail(path, "source.url", f"{url!r} is not an absolute https:// address")
    names = raw.get("names") or {}
    if not isinstance(names, dict):
        raise _fail(path, "names", "must have channels and handoff_reasons (each optional)")
    return AnalyticsSettings(
        cost_per_contact=_cost(raw, path),
        currency=currency,
        source_text=_text(source, "text", path, "source."),
        source_url=url,
        wording=_wording(raw.get("wording"), path),
        channel_names=_names(names.get("channels"), path, "channels"),
        reason_names=_names(names.get("handoff_reasons"), path, "handoff_reasons"),
    )


def load_settings(path: Path = SETTINGS_FILE) -> AnalyticsSettings:
    """The settings, parsed once per version of the file."""
    return load_yaml_file(path, parse_settings, AnalyticsSettingsError)


def settings_problems(path: Path = SETTINGS_FILE) -> list[tuple[int, str]]:
    """What `content check` reports for the file: nothing, or (line, "key: what to fix")."""
    try:
        load_settings(path)
    except AnalyticsSettingsError as exc:
        if not exc.key:
            return [(1, exc.problem.removeprefix(f"{path}: "))]
        return [(_line_of(path, exc.key), f"{exc.key}: {exc.problem}")]
    return []


def _line_of(path: Path, key: str) -> int:
    """The line where `key`'s last part is written (1 when it is missing): where to look first."""
    name = re.compile(rf"^\s*{re.escape(key.rsplit('.', 1)[-1])}\s*:")
    lines = path.read_text(encoding="utf-8").splitlines()
    return next((number for number, line in enumerate(lines, start=1) if name.match(line)), 1)


def saved_amount(contained: int, settings: AnalyticsSettings) -> Decimal:
    """Contained conversations x the cost per contact, to the cent."""
    return (settings.cost_per_contact * contained).quantize(CENT, ROUND_HALF_UP)


def savings(contained: int, settings: AnalyticsSettings) -> dict[str, Any]:
    """The API's `savings` object: the money saved, the calls avoided, and the cost with its source."""
    saved = saved_amount(contained, settings)
    return {
        "contained": contained,
        "cost_per_contact": float(settings.cost_per_contact),
        "currency": settings.currency,
        "saved": float(saved),
        "calls_avoided": contained,
        "source": {"text": settings.source_text, "url": settings.source_url},
    }

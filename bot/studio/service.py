"""The content studio's service: drafts, review, publish, history, revert and retire of entries.

Staff edit an entry's fields; a save is a draft (``bot.studio.drafts``), refused when it would add
an error that ``content check`` finds (``bot.content.entrycheck``, each problem on its field).
An entry's translations (``translations: {es: ...}``) travel with it: a save that gives a language's
text stamps it with the English it now follows; a save of the English alone keeps them as they
were, so they read stale until someone saves them again (`bot.studio.languages.translation_state`).
Publishing writes the entry to its topic file through ``bot.content.writer`` (the canonical
layout), re-checks the whole content and restores the file if an error appeared, sets
``last_reviewed`` to today, appends a version to the entry's history (``bot.studio.history``),
regenerates the Rasa files, and publishes the reply live to Redis (``bot.studio.live``), so
citizens read it within seconds without a retrain. A change to the questions, a new, retired or
restored entry also queues a retrain (``bot.studio.jobs``).

Rumors and crisis (``sensitive``) entries need a second person: their saved draft awaits review;
another account approves (publishing it once ``CONTENT_APPROVALS`` people, the author counting as
one, agree) or sends it back with a comment. Nobody approves their own change.

All file work runs in a thread (``asyncio.to_thread``) under ``content_lock``, so console replicas
and the other content tools (inbox, Promote, CSV import) never lose each other's writes; the live
answer is published before the lock is released, so two publishes reach Redis in file order.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from bot.content.agency import SOURCE_LANGUAGE, Agency, load_agency
from bot.content.check import content_errors
from bot.content.entrycheck import (
    EntryFieldError,
    FieldProblem,
    added_errors,
    check_entry,
    entry_fields,
    entry_from_fields,
    merged_translations,
    saved_translations,
)
from bot.content.generate import entry_variations, generated_files, write_generated
from bot.content.lint import months_before
from bot.content.model import (
    ID_PATTERN,
    ContentError,
    Entry,
    RenderSettings,
    Topic,
    all_entries,
    load_content,
    load_render_settings,
    parse_day,
)
from bot.content.translations import MISSING
from bot.content.writer import TRANSLATIONS_KEY, content_lock, write_text_atomic, write_topic
from bot.days import local_today
from bot.sms import sms_length
from bot.studio import tryit
from bot.studio.config import StudioConfig
from bot.studio.drafts import AWAITING_REVIEW, DRAFT, Draft, Drafts
from bot.studio.history import BASELINE_AUTHOR, History, Version, changes, entry_record, now_iso
from bot.studio.jobs import TrainJobs
from bot.studio.languages import offered, translation_state
from bot.studio.live import LiveContent, live_answer, variations_digest

log = logging.getLogger(__name__)
T = TypeVar("T")
Audit = Callable[[str, str, str], Awaitable[None]]
"""Records one audit entry: (action, entry id, detail); the API passes the console's `audit.record`."""

LIVE_SECONDS = 10.0  # the longest a publish waits for Redis while it holds the content lock
# Keys of a request that are about the change, not fields of the entry.
NOT_FIELDS = frozenset({"id", "topic", "note"})


class StudioError(Exception):
    """A request the studio refuses, with words staff can act on; ``status`` is the HTTP status."""

    status = 400

    def __init__(self, message: str, problems: Iterable[FieldProblem] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.message, "problems": [problem_dict(p) for p in self.problems]}


class StudioProblems(StudioError):
    """The change has problems (each on its field); nothing was written."""

    def __init__(self, problems: Iterable[FieldProblem], message: str = "") -> None:
        problems = list(problems)
        summary = "; ".join(f"{p.field}: {p.message}" for p in problems if p.error)
        super().__init__(message or f"the change was not saved: {summary}", problems)


class NeedsApproval(StudioError):
    status = 403


class NotAllowed(StudioError):
    status = 403


class NotFound(StudioError):
    status = 404


class Conflict(StudioError):
    status = 409


def problem_dict(problem: FieldProblem) -> dict[str, Any]:
    return {"field": problem.field, "message": problem.message, "error": problem.error}


def marked(entry: Entry | None) -> bool:
    """A rumor or a crisis (``sensitive``) entry: a change to it needs a second person."""
    return entry is not None and (entry.kind == "rumor" or entry.sensitive)


def retrain_reason(old: Entry | None, new: Entry) -> str:
    """Why the model must learn this change ("" when the live answer is enough)."""
    if old is None:
        return f"new entry {new.id}"
    if old.retired != new.retired:
        return f"{'retired' if new.retired else 'restored'} {new.id}"
    if old.questions != new.questions:
        return f"questions of {new.id} changed"
    asked = {t.language: t.questions for t in old.translations}
    now = {t.language: t.questions for t in new.translations}
    if changed := sorted(code for code in {*asked, *now} if asked.get(code) != now.get(code)):
        return f"{', '.join(changed)} questions of {new.id} changed"
    if old.sensitive != new.sensitive:
        return f"crisis marker of {new.id} changed"
    return ""


def history_action(old: Entry | None, new: Entry) -> str:
    if old is None:
        return "create"
    if new.retired and not old.retired:
        return "retire"
    if old.retired and not new.retired:
        return "restore"
    return "publish"


@dataclass(frozen=True)
class Published:
    """What a publish did: the history version it wrote, the live counter, the retrain it queued."""

    entry_id: str
    version: int
    action: str
    live_version: int | None  # None: Redis could not be reached; citizens get it after the retrain
    job: str | None = None
    retrain: str = ""
    approved_by: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "published": True,
            "entry_id": self.entry_id,
            "version": self.version,
            "action": self.action,
            "live": self.live_version is not None,
            "live_version": self.live_version,
            "job": self.job,
            "approved_by": list(self.approved_by),
        }


@dataclass(frozen=True)
class _Found:
    topic: Topic
    index: int | None  # None: a new entry for this topic

    @property
    def entry(self) -> Entry | None:
        return None if self.index is None else self.topic.entries[self.index]


class Studio:
    """The studio's operations on one content directory; shared by the JSON API and the pages."""

    def __init__(self, config: StudioConfig, redis: Redis, jobs: TrainJobs) -> None:
        self.config = config
        self.redis = redis
        self.jobs = jobs
        self.live = LiveContent(redis)
        self.drafts = Drafts(config.drafts_dir)
        self.history_files = History(config.history_dir)
        self._zone = ZoneInfo(config.timezone)

    # --- reading ---------------------------------------------------------------------------------

    @property
    def content_dir(self) -> Path:
        return self.config.content_dir

    @property
    def agency_file(self) -> Path:
        return self.content_dir.parent / "agency.yml"

    def today(self) -> date:
        """Today in the agency's time zone (AGENCY_TIMEZONE): the day ``last_reviewed`` and an entry's
        window mean, as the NLG reads them (`bot.nlg`)."""
        return local_today(datetime.now(timezone.utc), self._zone)

    def needs_approval(self, *entries: Entry | None) -> bool:
        """Whether a change from/to these versions of an entry needs a second person."""
        return self.config.approvals > 1 and any(marked(entry) for entry in entries)

    def stale(self, entry: Entry, today: date | None = None) -> bool:
        """Not reviewed within the review period (no date, or not a date, counts as never reviewed)."""
        reviewed = parse_day(entry.last_reviewed)
        cutoff = months_before(today or self.today(), self.config.review_months)
        return reviewed is None or reviewed < cutoff

    def window(self, entry: Entry, today: date | None = None) -> dict[str, Any]:
        """When citizens get this entry: ``answerable`` today, and a sentence saying so."""
        day = today or self.today()
        answerable = entry.answerable_on(day)
        if entry.retired:
            message = "retired: not answered"
        elif entry.valid_from or entry.valid_until:
            span = f"{entry.valid_from or '…'} – {entry.valid_until or '…'}"
            message = f"{'answered' if answerable else 'not answered today'}; not answered outside {span}"
        else:
            message = "answered"
        return {
            "answerable": answerable,
            "retired": entry.retired,
            "valid_from": entry.valid_from,
            "valid_until": entry.valid_until,
            "message": message,
        }

    async def topics(self) -> list[tuple[str, str]]:
        """(id, title) of every topic, in file order."""
        topics = await asyncio.to_thread(load_content, self.content_dir)
        return [(topic.id, topic.title) for topic in topics]

    async def list_entries(
        self, q: str = "", topic: str = "", kind: str = "", department: str = "", stale: bool = False
    ) -> list[dict[str, Any]]:
        """Every entry (and every new entry's draft) matching the filters, in content order.

        ``q`` matches words in the id, questions, answer, short answer, claim, source and
        department (case-insensitive); ``topic``, ``kind`` and ``department`` match exactly
        (department case-insensitively); ``stale`` keeps entries overdue for review.
        """
        return await asyncio.to_thread(self._list_entries, q, topic, kind, department, stale)

    def _list_entries(
        self, q: str, topic: str, kind: str, department: str, stale: bool
    ) -> list[dict[str, Any]]:
        topics = load_content(self.content_dir)
        drafts = {draft.entry_id: draft for draft in self.drafts.all()}
        today = self.today()
        rows: list[tuple[Topic, Entry, Draft | None]] = []
        for each in topics:
            rows += [(each, entry, drafts.pop(entry.id, None)) for entry in each.entries]
        by_id = {each.id: each for each in topics}
        for draft in drafts.values():
            new = self._draft_entry(draft, None)
            if draft.is_new and new is not None and draft.topic in by_id:
                rows.append((by_id[draft.topic], new, draft))
        words = q.casefold().split()
        others = self.languages()[1:]
        found = []
        for owner, entry, pending in rows:
            if (topic and owner.id != topic) or (kind and entry.kind != kind):
                continue
            if department and entry.department.casefold() != department.casefold():
                continue
            if stale and (not self.stale(entry, today) or (pending is not None and pending.is_new)):
                continue
            if words and not all(word in _haystack(entry) for word in words):
                continue
            found.append(self._summary(owner, entry, pending, today, others))
        return found

    def _summary(
        self, topic: Topic, entry: Entry, draft: Draft | None, today: date, others: tuple[str, ...]
    ) -> dict[str, Any]:
        """A list row; ``translations``: each of `others` (languages) with the state the entry page
        shows, of the draft's text when there is one."""
        shown = self._draft_entry(draft, entry) if draft and not draft.is_new else entry
        return {
            "id": entry.id,
            "topic": topic.id,
            "topic_title": topic.title,
            "kind": entry.kind,
            "department": entry.department,
            "question": entry.questions[0] if entry.questions else "",
            "last_reviewed": entry.last_reviewed,
            "stale": self.stale(entry, today),
            "sensitive": entry.sensitive,
            "retired": entry.retired,
            "needs_approval": self.needs_approval(entry),
            "window": self.window(entry, today),
            "state": draft.state if draft else "published",
            "is_new": bool(draft and draft.is_new),
            "translations": {code: translation_state(shown or entry, code) for code in others},
        }

    async def view(self, entry_id: str) -> dict[str, Any]:
        """One entry for the API and the edit page: the published entry, the draft, its state and
        review needs, the window, and the problems ``content check`` finds in the draft (else in
        the published entry)."""
        return await asyncio.to_thread(self._view, entry_id)

    def _view(self, entry_id: str) -> dict[str, Any]:
        found, draft = self._locate_with_draft(entry_id)
        published = found.entry
        candidate = self._draft_entry(draft, published) if draft else None
        shown = candidate or published  # None only for a new entry's draft that no longer parses
        problems = self._problems_of(draft, published, found.topic.id)
        today = self.today()
        latest = self.history_files.latest(entry_id)
        languages = self.languages()
        return {
            "id": entry_id,
            "topic": found.topic.id,
            "topic_title": found.topic.title,
            "kind": shown.kind if shown else str(draft.fields.get("kind", "") if draft else ""),
            "entry": entry_fields(published) if published else None,
            "draft": draft.as_dict() if draft else None,
            "state": draft.state if draft else "published",
            "needs_approval": self.needs_approval(published, candidate),
            "approvals_required": self.config.approvals,
            "window": self.window(shown, today) if shown else None,
            "stale": self.stale(published, today) if published else False,
            "version": latest,
            # Someone published the entry since this draft was started: publishing it would undo that.
            "outdated": draft is not None and not draft.is_new and draft.base_version != latest,
            "problems": [problem_dict(p) for p in problems],
            "languages": list(languages),
            # Each other language's text of the entry as shown (the draft's, else the published):
            # "up to date", "stale", "not yet stamped" or "missing".
            "translations": {
                code: translation_state(shown, code) if shown else MISSING for code in languages[1:]
            },
        }

    def languages(self) -> tuple[str, ...]:
        """The languages the entry is edited in: the agency's, English first."""
        return offered(self.agency_file)

    def _problems_of(self, draft: Draft | None, published: Entry | None, topic_id: str) -> list[FieldProblem]:
        if draft is None:
            assert published is not None
            return self._check(published, topic_id)
        try:
            candidate = entry_from_fields(draft.fields, published, topic_id)
        except EntryFieldError as exc:
            return list(exc.problems)
        return self._check(candidate, topic_id)

    def _check(self, entry: Entry, topic_id: str) -> list[FieldProblem]:
        agency = self.agency_file if self.agency_file.exists() else None
        return check_entry(self.content_dir, entry, topic_id, agency, self.today())

    async def history(self, entry_id: str) -> list[dict[str, Any]]:
        """Every published version of the entry, oldest first (none before its first studio publish)."""
        return await asyncio.to_thread(self._history, entry_id)

    def _history(self, entry_id: str) -> list[dict[str, Any]]:
        versions = self.history_files.versions(_checked_id(entry_id))
        if not versions:
            self._locate_with_draft(entry_id)  # 404 for an entry that does not exist
        return [version.as_dict() for version in versions]

    async def preview(
        self, fields: Mapping[str, Any], entry_id: str = "", language: str = SOURCE_LANGUAGE
    ) -> dict[str, Any]:
        """The reply as a citizen reading `language` gets it on web chat and by SMS (agency facts
        filled in; the English when the entry has no text in it: ``language`` says which it is), its
        SMS segments, and the problems of these fields; nothing is saved."""
        return await asyncio.to_thread(self._preview, dict(fields), entry_id, language)

    def _preview(self, fields: dict[str, Any], entry_id: str, language: str) -> dict[str, Any]:
        published: Entry | None = None
        topic_id = str(fields.get("topic") or "")
        base: dict[str, Any] = {}
        draft: Draft | None = None
        if entry_id:
            found, draft = self._locate_with_draft(entry_id)
            published, topic_id = found.entry, found.topic.id
            base = draft.fields if draft else entry_fields(published) if published else {}
        merged = _merged(base, fields)
        if entry_id:
            merged["id"] = entry_id
        elif "id" in fields:
            merged["id"] = fields["id"]
        try:
            candidate = entry_from_fields(merged, published, topic_id)
        except EntryFieldError as exc:
            return {
                "webchat": "",
                "buttons": [],
                "sms": "",
                "sms_segments": 0,
                "language": language,
                "problems": [problem_dict(p) for p in exc.problems],
            }
        before = self._draft_entry(draft, published) if entry_id and draft else published
        candidate = saved_translations(candidate, before, fields.get(TRANSLATIONS_KEY))
        shown = self._rendered(candidate, language)
        web, sms = (shown.webchat or ("",))[0], (shown.sms or ("",))[0]
        problems = self._check(candidate, topic_id)
        return {
            "webchat": web,
            "buttons": list(shown.buttons),
            "sms": sms,
            "sms_segments": sms_length(sms).segments,
            "language": shown.language,
            "state": translation_state(candidate, language) if language != SOURCE_LANGUAGE else "",
            "problems": [problem_dict(p) for p in problems],
        }

    def _rendered(self, entry: Entry, language: str = SOURCE_LANGUAGE) -> tryit.Reply:
        """The entry's reply in `language`, as Try it renders it (`tryit.reply`, from the same
        variations Rasa and the NLG use), facts filled in; the preview shows the first wording of each."""
        try:
            agency = load_agency(self.agency_file)
        except ContentError:  # facts unreadable: placeholders stay as written
            agency = Agency({}, self.agency_file)
        settings = load_render_settings(self.content_dir)
        return tryit.reply(entry, settings, agency, self.today(), language=language)

    # --- drafts and review -----------------------------------------------------------------------

    async def save(
        self, entry_id: str, fields: Mapping[str, Any], actor: str, *, audit: Audit | None = None
    ) -> dict[str, Any]:
        """Save the changed ``fields`` of an entry as its draft (awaiting review when it needs a
        second person); refused with the problems when it would add an error. Returns `view`."""
        draft = await asyncio.to_thread(self._locked, self._save, _checked_id(entry_id), dict(fields), actor)
        await _record(audit, "content_save", entry_id, draft.state)
        return await self.view(entry_id)

    async def create(
        self, fields: Mapping[str, Any], actor: str, *, audit: Audit | None = None
    ) -> dict[str, Any]:
        """A draft of a new entry (``id``, ``topic``, ``kind`` and its fields); published like any draft."""
        entry_id = str(fields.get("id") or "")
        if not ID_PATTERN.match(entry_id):
            message = "an id is lowercase letters, digits and _, starting with a letter"
            raise StudioProblems([FieldProblem("id", message)])
        draft = await asyncio.to_thread(self._locked, self._create, entry_id, dict(fields), actor)
        await _record(audit, "content_create", entry_id, f"draft in {draft.topic}")
        return await self.view(entry_id)

    def _create(self, entry_id: str, fields: dict[str, Any], actor: str) -> Draft:
        topics = load_content(self.content_dir)
        if any(entry.id == entry_id for entry in all_entries(topics)) or self.drafts.get(entry_id):
            raise Conflict(f"an entry named {entry_id!r} exists already: choose another id")
        topic_id = str(fields.get("topic") or "")
        topic = next((t for t in topics if t.id == topic_id), None)
        if topic is None:
            names = ", ".join(t.id for t in topics)
            raise StudioProblems([FieldProblem("topic", f"choose one of the topics: {names}")])
        return self._store_draft(_Found(topic, None), None, fields, actor)

    def _save(self, entry_id: str, fields: dict[str, Any], actor: str) -> Draft:
        found, draft = self._locate_with_draft(entry_id)
        for key, now in (("id", entry_id), ("topic", found.topic.id)):
            if key in fields and str(fields[key]) != now:
                raise StudioProblems(
                    [FieldProblem(key, f"an entry's {key} cannot change: create a new entry")]
                )
        return self._store_draft(found, draft, fields, actor)

    def _store_draft(self, found: _Found, draft: Draft | None, fields: dict[str, Any], actor: str) -> Draft:
        published = found.entry
        base = draft.fields if draft else entry_fields(published) if published else {}
        merged = _merged(base, fields)
        merged["id"] = draft.entry_id if draft else published.id if published else str(fields["id"])
        try:
            candidate = entry_from_fields(merged, published, found.topic.id)
        except EntryFieldError as exc:
            raise StudioProblems(exc.problems) from exc
        before = self._draft_entry(draft, published) if draft else published
        candidate = saved_translations(candidate, before, fields.get(TRANSLATIONS_KEY))
        agency = self.agency_file if self.agency_file.exists() else None
        added = [
            p
            for p in added_errors(self.content_dir, candidate, found.topic.id, agency, self.today())
            if p.error
        ]
        if added:
            raise StudioProblems(added)
        note = str(fields["note"]) if "note" in fields else draft.note if draft else ""
        stored = Draft(
            entry_id=candidate.id,
            topic=found.topic.id,
            fields=entry_fields(candidate),
            note=note,
            author=actor,
            saved_at=now_iso(),
            state=AWAITING_REVIEW if self.needs_approval(published, candidate) else DRAFT,
            base_version=self.history_files.latest(candidate.id),
            is_new=published is None,
        )
        self.drafts.put(stored)
        return stored

    async def approve(self, entry_id: str, actor: str, *, audit: Audit | None = None) -> dict[str, Any]:
        """Agree with a change awaiting review; publishes it once enough people agree.

        Returns ``{"published": false, "approvals": [...]}`` or the publish's result."""
        loop = asyncio.get_running_loop()
        result = await asyncio.to_thread(self._locked, self._approve, _checked_id(entry_id), actor, loop)
        await _record(audit, "content_approve", entry_id, "")
        if isinstance(result, Draft):
            return {"published": False, "entry_id": entry_id, "approvals": list(result.approvals)}
        return await self._after_publish(result, actor, audit)

    def _approve(self, entry_id: str, actor: str, loop: asyncio.AbstractEventLoop) -> Draft | Published:
        draft = self.drafts.get(entry_id)
        if draft is None or draft.state != AWAITING_REVIEW:
            raise Conflict("there is no change of this entry awaiting review")
        if actor == draft.author:
            raise NotAllowed("nobody approves their own change: another editor or an approver must")
        if actor in draft.approvals:
            raise NotAllowed("you have approved this change already")
        draft = draft.approved(actor)
        if 1 + len(draft.approvals) < self.config.approvals:
            self.drafts.put(draft)
            return draft
        return self._publish_draft(draft, "", loop)

    async def send_back(
        self, entry_id: str, actor: str, comment: str, *, audit: Audit | None = None
    ) -> dict[str, Any]:
        """Return a change awaiting review to its author with a comment saying what to change."""
        comment = comment.strip()
        if not comment:
            raise StudioProblems(
                [FieldProblem("comment", "say what should change before it can be approved")]
            )
        await asyncio.to_thread(self._locked, self._send_back, _checked_id(entry_id), actor, comment)
        await _record(audit, "content_send_back", entry_id, comment[:200])
        return await self.view(entry_id)

    def _send_back(self, entry_id: str, actor: str, comment: str) -> None:
        draft = self.drafts.get(entry_id)
        if draft is None or draft.state != AWAITING_REVIEW:
            raise Conflict("there is no change of this entry awaiting review")
        if actor == draft.author:
            raise NotAllowed("you cannot review your own change: edit the draft instead")
        self.drafts.put(draft.sent_back(comment, actor))

    # --- publishing ------------------------------------------------------------------------------

    async def publish(
        self, entry_id: str, actor: str, note: str = "", *, audit: Audit | None = None
    ) -> dict[str, Any]:
        """Publish the entry's draft (refused when it needs a second person's approval)."""
        loop = asyncio.get_running_loop()
        done = await asyncio.to_thread(self._locked, self._publish, _checked_id(entry_id), actor, note, loop)
        return await self._after_publish(done, actor, audit)

    def _publish(self, entry_id: str, actor: str, note: str, loop: asyncio.AbstractEventLoop) -> Published:
        draft = self.drafts.get(entry_id)
        if draft is None:
            raise Conflict("there is no draft of this entry to publish: save a change first")
        found = self._locate(entry_id, draft)
        candidate = self._draft_entry(draft, found.entry)
        if self.needs_approval(found.entry, candidate):
            raise NeedsApproval(
                f"a change to this entry needs {self.config.approvals} people: another editor or an "
                "approver must approve it, which publishes it"
            )
        return self._publish_draft(draft, note, loop)

    async def retire(
        self, entry_id: str, actor: str, note: str = "", *, audit: Audit | None = None
    ) -> dict[str, Any]:
        """Stop answering the entry (kept, with its history): a change like any other, so it is
        published at once or, for an entry that needs a second person, awaits review."""
        found = await asyncio.to_thread(self._locate, _checked_id(entry_id), None)
        if found.entry is not None and found.entry.retired:
            raise Conflict(f"{entry_id} is retired already")
        await self.save(entry_id, {"retired": True, "note": note}, actor, audit=audit)
        view = await self.view(entry_id)
        if view["needs_approval"]:
            return {"published": False, "entry_id": entry_id, "state": view["state"]}
        return await self.publish(entry_id, actor, note, audit=audit)

    async def revert(
        self, entry_id: str, version: int, actor: str, note: str = "", *, audit: Audit | None = None
    ) -> dict[str, Any]:
        """Publish the entry as it was in history ``version`` (a new version; no approval: every
        version was approved when it was published). A draft in progress is left alone."""
        loop = asyncio.get_running_loop()
        done = await asyncio.to_thread(
            self._locked, self._revert, _checked_id(entry_id), version, actor, note, loop
        )
        return await self._after_publish(done, actor, audit)

    def _revert(
        self, entry_id: str, number: int, actor: str, note: str, loop: asyncio.AbstractEventLoop
    ) -> Published:
        versions = self.history_files.versions(entry_id)
        chosen = next((v for v in versions if v.version == number), None)
        if chosen is None:
            raise NotFound(f"{entry_id} has no version {number}")
        found = self._locate(entry_id, None)
        entry = chosen.as_entry(Path(found.topic.path), found.topic.id)
        return self._write(found, entry, actor, note, (), loop, action="revert", reverted_to=number)

    def _publish_draft(self, draft: Draft, note: str, loop: asyncio.AbstractEventLoop) -> Published:
        found = self._locate(draft.entry_id, draft)
        candidate = self._draft_entry(draft, found.entry)
        if candidate is None:
            raise Conflict("the draft cannot be read any more: save it again")
        why = note or draft.note
        done = self._write(found, candidate, draft.author, why, draft.approvals, loop)
        self.drafts.delete(draft.entry_id)
        return done

    def _write(
        self,
        found: _Found,
        candidate: Entry,
        author: str,
        note: str,
        approved_by: tuple[str, ...],
        loop: asyncio.AbstractEventLoop,
        action: str = "",
        reverted_to: int | None = None,
    ) -> Published:
        """Write the entry into its topic file, keep the version, regenerate, publish live (locked)."""
        topic, old = found.topic, found.entry
        entry = dataclasses.replace(candidate, last_reviewed=self.today().isoformat())
        agency = self.agency_file if self.agency_file.exists() else None
        added = [p for p in added_errors(self.content_dir, entry, topic.id, agency, self.today()) if p.error]
        if added:
            raise StudioProblems(added)
        entries = list(topic.entries)
        if found.index is None:
            entries.append(entry)
        else:
            entries[found.index] = entry
        before = content_errors(self.content_dir, agency)
        text = topic.path.read_text(encoding="utf-8")
        write_topic(dataclasses.replace(topic, entries=tuple(entries)))
        appeared = content_errors(self.content_dir, agency) - before
        if appeared:
            write_text_atomic(topic.path, text)
            raise StudioProblems([], "the change was not published: " + "; ".join(sorted(appeared)))
        versions = self._record_version(
            old, entry, author, note, approved_by, action or history_action(old, entry), reverted_to
        )
        topics = load_content(self.content_dir)
        settings = load_render_settings(self.content_dir)
        write_generated(generated_files(topics, settings), self.config.root)
        written = self._find_in(topics, entry.id)
        published = written.entry if written and written.entry else entry
        known = _known(versions, settings, Path(topic.path), topic.id)
        answer = live_answer(published, settings, versions[-1].version, known)
        try:
            counter: int | None = _wait(loop, self.live.publish(answer))
        except Exception as exc:  # Redis away: the files are the truth; the next model says it
            log.warning("published %s to the files, not live (%s: %s)", entry.id, type(exc).__name__, exc)
            counter = None
        return Published(
            entry_id=entry.id,
            version=versions[-1].version,
            action=versions[-1].action,
            live_version=counter,
            retrain=retrain_reason(old, entry),
            approved_by=approved_by,
        )

    def _record_version(
        self,
        old: Entry | None,
        new: Entry,
        author: str,
        note: str,
        approved_by: tuple[str, ...],
        action: str,
        reverted_to: int | None,
    ) -> list[Version]:
        """Append the new version (after a baseline of the files' version when history lacks it);
        returns every version."""
        versions = self.history_files.versions(new.id)
        before = entry_record(old) if old else {}
        added: list[Version] = []
        if old is not None and (not versions or changes(versions[-1].entry, before)):
            # The files hold a version history does not (never published here, or edited by
            # hand since): keep it first, so a revert can return to it and its wording is known.
            added.append(Version(len(versions) + 1, now_iso(), BASELINE_AUTHOR, "baseline", before))
        record = entry_record(new)
        added.append(
            Version(
                version=len(versions) + len(added) + 1,
                at=now_iso(),
                by=author,
                action=action,
                entry=record,
                approved_by=approved_by,
                note=note,
                reverted_to=reverted_to,
                changes=changes(before, record),
            )
        )
        self.history_files.append(new.id, added)
        return versions + added

    async def _after_publish(self, done: Published, actor: str, audit: Audit | None) -> dict[str, Any]:
        """Queue the retrain the change needs, and audit-log the publish."""
        job = await self.jobs.start(actor, done.retrain) if done.retrain else None
        done = dataclasses.replace(done, job=job)
        action = {"revert": "content_revert", "retire": "content_retire"}.get(done.action, "content_publish")
        detail = f"version {done.version}" + (f", retrain job {job}" if job else "")
        await _record(audit, action, done.entry_id, detail)
        return done.as_dict()

    # --- helpers ---------------------------------------------------------------------------------

    def _locked(self, function: Callable[..., T], *args: Any) -> T:
        with content_lock(self.content_dir):
            return function(*args)

    def _find_in(self, topics: list[Topic], entry_id: str) -> _Found | None:
        for topic in topics:
            for index, entry in enumerate(topic.entries):
                if entry.id == entry_id:
                    return _Found(topic, index)
        return None

    def _locate(self, entry_id: str, draft: Draft | None) -> _Found:
        """Where the entry is (or, for a new entry's draft, the topic it will join); 404 otherwise."""
        topics = load_content(self.content_dir)
        found = self._find_in(topics, entry_id)
        if found is not None:
            return found
        if draft is not None and draft.is_new:
            topic = next((t for t in topics if t.id == draft.topic), None)
            if topic is not None:
                return _Found(topic, None)
        raise NotFound(f"there is no entry {entry_id!r}")

    def _locate_with_draft(self, entry_id: str) -> tuple[_Found, Draft | None]:
        draft = self.drafts.get(_checked_id(entry_id))
        return self._locate(entry_id, draft), draft

    def _draft_entry(self, draft: Draft, published: Entry | None) -> Entry | None:
        """The entry as the draft would publish it; None when its fields no longer parse."""
        try:
            return entry_from_fields(draft.fields, published, draft.topic)
        except EntryFieldError:
            return None


def _merged(base: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """A change's fields over the draft's (or entry's): ``translations`` language by language and
    key by key (`merged_translations`), so saving one language's text keeps the others'."""
    merged = {**base, **{k: v for k, v in fields.items() if k not in NOT_FIELDS}}
    if TRANSLATIONS_KEY in fields:
        merged[TRANSLATIONS_KEY] = merged_translations(base.get(TRANSLATIONS_KEY), fields[TRANSLATIONS_KEY])
    return merged


def _checked_id(entry_id: str) -> str:
    if not ID_PATTERN.match(entry_id):
        raise NotFound(f"there is no entry {entry_id!r}")
    return entry_id


def _haystack(entry: Entry) -> str:
    texts = [entry.id, *entry.questions, entry.answer, entry.short_answer, entry.claim, entry.source]
    for translation in entry.translations:  # staff search in every language the entry is written in
        texts += [*translation.questions, translation.answer, translation.short_answer, translation.claim]
    return " ".join([*texts, entry.department]).casefold()


def _known(versions: list[Version], settings: RenderSettings, path: Path, topic: str) -> list[str]:
    """The digest of every wording the entry has had (each history version's variations)."""
    digests = [variations_digest(entry_variations(v.as_entry(path, topic), settings)) for v in versions]
    return list(dict.fromkeys(digests))


def _wait(loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` on the event loop from this worker thread and wait for it."""
    return asyncio.run_coroutine_threadsafe(work, loop).result(LIVE_SECONDS)


async def _record(audit: Audit | None, action: str, entry_id: str, detail: str) -> None:
    if audit is not None:
        await audit(action, entry_id, detail)

"""Write an editor's inbox decisions back to the content files, through ``bot.content``.

Four decisions: a message becomes an example question of an existing FAQ, an
out-of-scope example (``data/nlu/out_of_scope.staff.yml``, which Rasa trains on with
the other NLU files), or a new FAQ or rumor draft (``data/content/_drafts.yml``: files
starting with ``_`` are never trained or generated, so a draft waits there until an
editor publishes it complete). A rumor draft (claim, verdict, facts) is checked by
``content check``'s rules for rumors when it is saved, and refused with their message.
After each write the generated Rasa files are regenerated and ``content check``'s error
rules are run; a write that would add an error is undone, so ``content check`` passes
whatever an editor clicks.

A question in another language than English goes where that language's text is: an example
question joins the entry's translation (``translations: {es: {questions}}``, never its English
questions), an out-of-scope one the out-of-scope block marked with its language, and a draft
started from it carries that language's questions and answer beside the English ones.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.content.agency import SOURCE_LANGUAGE
from bot.content.generate import generated_files, write_generated
from bot.content.lint import entry_problems, load_checked, question_findings
from bot.content.model import (
    ID_PATTERN,
    LANGUAGE_CODE,
    VERDICTS,
    Entry,
    Topic,
    Translation,
    all_entries,
    english_digest,
    load_content,
    load_render_settings,
)
from bot.content.similar import fold_for_similarity as normalise
from bot.content.translations import translated_question_findings, translated_rule_findings
from bot.content.writer import content_lock, write_text_atomic, write_topic
from bot.inbox.config import InboxConfig

OUT_OF_SCOPE_HEADER = (
    "# Out-of-scope examples added by editors from the review inbox (/inbox in the console).\n"
    "# Staff may delete lines here; `make validate` checks the file;\n"
    "# `python -m bot model reload` trains on it.\n"
)
DRAFTS_HEADER = (
    "# FAQ and rumor drafts started from the review inbox. Never trained: a draft becomes an entry in its\n"
    "# topic file when an editor publishes it with an answer, a source and a department.\n"
)
PLACEHOLDER = re.compile(r"\[(?:phone|email|card|id number|address)\]")
OUT_OF_SCOPE = "out_of_scope"


class WriteBackError(ValueError):
    """A decision that cannot be written, with a reason an editor can act on."""


@dataclass(frozen=True)
class Draft:
    """A new FAQ or rumor in progress: the question from the inbox plus whatever the editor filled in.

    A rumor's ``answer`` is its facts; ``claim`` and ``verdict`` (true / false / misleading) are its
    own, ``related`` optionally names the FAQ that answers the topic without a verdict.

    A draft started from a question in another language (``language``, "" for English) also holds
    the entry's text in that language: its questions, answer, short answer and (a rumor's) claim,
    published as the entry's translation.
    """

    id: str
    topic: str
    questions: tuple[str, ...]
    answer: str = ""
    short_answer: str = ""
    source: str = ""
    department: str = ""
    kind: str = "faq"
    claim: str = ""
    verdict: str = ""
    related: str = ""
    language: str = ""
    translated_questions: tuple[str, ...] = ()
    translated_answer: str = ""
    translated_short_answer: str = ""
    translated_claim: str = ""

    def translated(self) -> dict[str, Any]:
        """The text in ``language`` as the drafts file (and a content file) holds it, empty keys left out."""
        values = {
            "questions": list(self.translated_questions),
            "answer": self.translated_answer,
            "short_answer": self.translated_short_answer,
            "claim": self.translated_claim if self.kind == "rumor" else "",
        }
        return {key: value for key, value in values.items() if value}

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "id": self.id,
            "topic": self.topic,
            "questions": list(self.questions),
            "answer": self.answer,
            "short_answer": self.short_answer,
            "source": self.source,
            "department": self.department,
        }
        if self.kind == "rumor":
            found.update(kind=self.kind, claim=self.claim, verdict=self.verdict, related=self.related)
        if self.language:
            found["translations"] = {self.language: self.translated()}
        return found

    def missing(self) -> list[str]:
        """What an editor still has to fill in before the draft can be published."""
        required = {"answer": self.answer, "source": self.source, "department": self.department}
        if self.kind == "rumor":
            required = {"claim": self.claim, "verdict": self.verdict, **required}
        if self.language:  # the English questions, and the answer in the draft's other language
            required = {"questions": " ".join(self.questions), **required}
            required[f"the {self.language} answer"] = self.translated_answer
        return [name for name, value in required.items() if not value.strip()]

    def entry(self, topic: str, today: str = "") -> Entry:
        """The content entry this draft becomes (with its translation, when it has one)."""
        rumor = self.kind == "rumor"
        entry = Entry(
            id=self.id,
            kind=self.kind,
            questions=self.questions,
            answer=self.answer.strip(),
            short_answer=self.short_answer.strip(),
            source=self.source.strip(),
            department=self.department.strip(),
            last_reviewed=today,
            claim=self.claim.strip() if rumor else "",
            verdict=self.verdict.strip().lower() if rumor else "",
            related=self.related.strip() if rumor else "",
            topic=topic,
        )
        if not self.language:
            return entry
        own = Translation(
            language=self.language,
            questions=self.translated_questions,
            answer=self.translated_answer.strip(),
            short_answer=self.translated_short_answer.strip(),
            claim=self.translated_claim.strip() if rumor else "",
            translated_from=english_digest(entry),  # written with the English it translates
        )
        return dataclasses.replace(entry, translations=(own,))


def clean_question(text: str) -> str:
    """One line, trimmed; refuse redaction placeholders, which would teach the model nonsense."""
    question = " ".join(text.split())
    if not question:
        raise WriteBackError("the question is empty")
    if PLACEHOLDER.search(question):
        raise WriteBackError(
            "the question still contains a placeholder such as [phone] or [address]: "
            "rewrite it the way a citizen would ask, without personal data"
        )
    return question


class ContentEditor:
    """Applies decisions to the content under ``config.content_dir`` (a temp copy in tests)."""

    def __init__(self, config: InboxConfig) -> None:
        self.config = config

    def faqs(self) -> list[tuple[Topic, Entry]]:
        """Every FAQ and rumor an example can be added to, by topic."""
        return [(topic, entry) for topic in load_content(self.config.content_dir) for entry in topic.entries]

    def topics(self) -> list[Topic]:
        return load_content(self.config.content_dir)

    def add_example(self, entry_id: str, text: str, language: str = SOURCE_LANGUAGE) -> Entry:
        """Append ``text`` to the example questions of entry ``entry_id`` in ``language``: its own
        questions in English, its translation's in another language (refused when it has none yet:
        a question without an answer in its language would be answered in English)."""
        question = clean_question(text)
        with content_lock(self.config.content_dir):
            topics = load_content(self.config.content_dir)
            self._refuse_known(question, topics)
            found = [(t, i) for t in topics for i, e in enumerate(t.entries) if e.id == entry_id]
            if not found:
                raise WriteBackError(f"there is no FAQ with id {entry_id!r}")
            topic, index = found[0]
            entry = topic.entries[index]
            updated = _with_question(entry, question, language)
            entries = (*topic.entries[:index], updated, *topic.entries[index + 1 :])
            changed = dataclasses.replace(topic, entries=entries)
            self._guarded([topic.path], lambda: write_topic(changed))
        return updated

    def mark_out_of_scope(self, text: str, language: str = SOURCE_LANGUAGE) -> Path:
        """Add ``text`` to the staff's out-of-scope examples in ``language`` (another language's
        block is marked with it, as data/nlu/out_of_scope.yml marks its own), so the assistant
        declines it."""
        question = clean_question(text)
        if not LANGUAGE_CODE.match(language):
            raise WriteBackError(f"{language!r} is not a language code such as es")
        path = self.config.out_of_scope_file
        with content_lock(self.config.content_dir):
            self._refuse_known(question, load_content(self.config.content_dir))
            blocks = out_of_scope_blocks(path)
            if normalise(question) in {normalise(e) for examples in blocks.values() for e in examples}:
                raise WriteBackError("this message is already marked out of scope")
            blocks[language] = [*blocks.get(language, []), question]
            self._guarded([path], lambda: write_text_atomic(path, out_of_scope_text(blocks)))
        return path

    def save_draft(self, draft: Draft) -> Draft:
        """Keep a new FAQ draft (replacing one with the same id) in ``_drafts.yml``."""
        if not ID_PATTERN.match(draft.id):
            raise WriteBackError(
                "the id must be lowercase letters, digits and _ (for example: dump_sunday_hours)"
            )
        questions = tuple(clean_question(q) for q in draft.questions if q.strip())
        translated = tuple(clean_question(q) for q in draft.translated_questions if q.strip())
        if not questions and not translated:
            raise WriteBackError("a draft needs at least one example question")
        if draft.language and not LANGUAGE_CODE.match(draft.language):
            raise WriteBackError(f"{draft.language!r} is not a language code such as es")
        draft = dataclasses.replace(draft, questions=questions, translated_questions=translated)
        if draft.kind not in ("faq", "rumor"):
            raise WriteBackError(f"a draft is an FAQ or a rumor, not {draft.kind!r}")
        with content_lock(self.config.content_dir):
            entries = all_entries(load_content(self.config.content_dir))
            if draft.id in {e.id for e in entries}:
                raise WriteBackError(f"an FAQ with id {draft.id!r} exists already; choose another id")
            if draft.kind == "rumor":
                _refuse_bad_rumor(draft, entries)
            drafts = [d for d in self.drafts() if d.id != draft.id]
            write_text_atomic(self.config.drafts_file, drafts_text([*drafts, draft]))
        return draft

    def drafts(self) -> list[Draft]:
        path = self.config.drafts_file
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
        return [_draft(item) for item in (raw or {}).get("drafts") or [] if isinstance(item, dict)]

    def publish_draft(self, draft_id: str, today: date | None = None) -> Entry:
        """Move a complete draft into its topic file, where the next training picks it up."""
        with content_lock(self.config.content_dir):
            draft = next((d for d in self.drafts() if d.id == draft_id), None)
            if draft is None:
                raise WriteBackError(f"there is no draft with id {draft_id!r}")
            if draft.missing():
                raise WriteBackError(f"fill in {', '.join(draft.missing())} before publishing")
            topics = load_content(self.config.content_dir)
            topic = next((t for t in topics if t.id == draft.topic), None)
            if topic is None:
                raise WriteBackError(f"there is no topic {draft.topic!r}")
            for question in (*draft.questions, *draft.translated_questions):
                self._refuse_known(question, topics)
            entry = draft.entry(topic.id, (today or date.today()).isoformat())
            rest = [d for d in self.drafts() if d.id != draft_id]

            def write() -> None:
                write_topic(dataclasses.replace(topic, entries=(*topic.entries, entry)))
                write_text_atomic(self.config.drafts_file, drafts_text(rest))

            self._guarded([topic.path, self.config.drafts_file], write)
        return entry

    def _refuse_known(self, question: str, topics: list[Topic]) -> None:
        """The same question under two answers teaches the model a contradiction, in any language."""
        key = normalise(question)
        for entry in all_entries(topics):
            asked = [*entry.questions, *(q for t in entry.translations for q in t.questions)]
            if any(normalise(q) == key for q in asked):
                raise WriteBackError(f"{question!r} is already an example question of {entry.id!r}")

    def _errors(self) -> set[str]:
        """``content check``'s errors (its other rules only warn), without the slow warning rules."""
        topics, problems = load_checked(self.config.content_dir)
        entries = all_entries(topics)
        problems += entry_problems(entries) + question_findings(entries)
        # The same rules in each other language, and a translation's own (an answer, its text).
        problems += translated_question_findings(entries) + translated_rule_findings(entries, None, None)
        return {str(p) for p in problems if p.error}

    def _regenerate(self) -> None:
        content_dir = self.config.content_dir
        files = generated_files(load_content(content_dir), load_render_settings(content_dir))
        write_generated(files, self.config.root)

    def _guarded(self, paths: list[Path], write: Any) -> None:
        """Write, regenerate and re-check; put every file back if the write added an error."""
        before_errors = self._errors()
        saved = {path: path.read_text(encoding="utf-8") if path.exists() else None for path in paths}
        write()
        new_errors = self._errors() - before_errors
        if new_errors:
            for path, text in saved.items():
                if text is None:
                    path.unlink(missing_ok=True)
                else:
                    write_text_atomic(path, text)
            raise WriteBackError("the change was not saved: " + "; ".join(sorted(new_errors)))
        self._regenerate()


def _refuse_bad_rumor(draft: Draft, entries: list[Entry]) -> None:
    """``content check``'s rumor rules (claim, verdict, related entry), in its words; a draft may
    still lack its answer, source and department, which publishing asks for."""
    candidate = draft.entry(draft.topic)
    if not candidate.claim:
        raise WriteBackError(f"{draft.id}: a rumor needs the claim it answers")
    found = [
        p.message for p in entry_problems([*entries, candidate]) if p.message.startswith(f"{draft.id}: ")
    ]
    wrong = [m for m in found if "verdict" in m or "related" in m or "claim" in m]
    if candidate.verdict not in VERDICTS:
        wrong.insert(0, f"{draft.id}: a rumor needs verdict {' / '.join(VERDICTS)}")
    if wrong:
        raise WriteBackError(wrong[0])


def _with_question(entry: Entry, question: str, language: str) -> Entry:
    """``entry`` with ``question`` added to its questions in ``language``."""
    if language == SOURCE_LANGUAGE:
        return dataclasses.replace(entry, questions=(*entry.questions, question))
    own = entry.translation(language)
    if own is None:
        raise WriteBackError(
            f"{entry.id!r} has no {language} text yet, so citizens asking in {language} would get the "
            f"English answer: write its {language} answer in the content studio (/content/{entry.id}"
            f"?language={language}) first, then add the question"
        )
    grown = dataclasses.replace(own, questions=(*own.questions, question))
    return dataclasses.replace(
        entry, translations=tuple(grown if t.language == language else t for t in entry.translations)
    )


def _draft(raw: dict[str, Any]) -> Draft:
    translations = raw.get("translations")
    items = translations.items() if isinstance(translations, dict) else []
    texts = [(str(code), item) for code, item in items if isinstance(item, dict)]
    language, own = texts[0] if texts else ("", {})  # a draft holds one other language (its question's)
    return Draft(
        language=language,
        translated_questions=tuple(str(q) for q in own.get("questions") or []),
        translated_answer=str(own.get("answer") or ""),
        translated_short_answer=str(own.get("short_answer") or ""),
        translated_claim=str(own.get("claim") or ""),
        kind=str(raw.get("kind") or "faq"),
        claim=str(raw.get("claim") or ""),
        verdict=str(raw.get("verdict") or ""),
        related=str(raw.get("related") or ""),
        id=str(raw.get("id") or ""),
        topic=str(raw.get("topic") or ""),
        questions=tuple(str(q) for q in raw.get("questions") or []),
        answer=str(raw.get("answer") or ""),
        short_answer=str(raw.get("short_answer") or ""),
        source=str(raw.get("source") or ""),
        department=str(raw.get("department") or ""),
    )


def drafts_text(drafts: list[Draft]) -> str:
    body = yaml.safe_dump(
        {"drafts": [d.as_dict() for d in drafts]}, sort_keys=False, allow_unicode=True, width=100
    )
    return DRAFTS_HEADER + body


def out_of_scope_blocks(path: Path) -> dict[str, list[str]]:
    """The staff's out-of-scope examples by language (a block's ``metadata: {language: es}``; English
    when it has none), English first."""
    blocks: dict[str, list[str]] = {SOURCE_LANGUAGE: []}
    if not path.exists():
        return blocks
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for block in raw.get("nlu") or []:
        if block.get("intent") == OUT_OF_SCOPE:
            metadata = block.get("metadata") if isinstance(block.get("metadata"), dict) else {}
            language = str(metadata.get("language") or SOURCE_LANGUAGE)
            blocks.setdefault(language, [])
            blocks[language] += [
                line.strip()[2:] for line in str(block.get("examples", "")).splitlines() if line.strip()
            ]
    return blocks


def out_of_scope_examples(path: Path) -> list[str]:
    """Every staff out-of-scope example, in any language."""
    return [example for examples in out_of_scope_blocks(path).values() for example in examples]


def _example(text: str) -> str:
    """Rasa reads ``[x](y)`` and ``[x]{...}`` in examples as entity markup: escape the brackets' meaning."""
    return re.sub(r"\[([^\]]*)\](?=[({])", r"\1", text)


def out_of_scope_text(blocks: dict[str, list[str]] | list[str]) -> str:
    """The staff's out-of-scope file: the English block, then one per other language marked with it
    (``metadata: {language: es}``, how the domain gate tells the languages' examples apart)."""
    by_language = {SOURCE_LANGUAGE: blocks} if isinstance(blocks, list) else blocks
    lines = [OUT_OF_SCOPE_HEADER + 'version: "3.1"', "nlu:"]
    for language, examples in sorted(by_language.items(), key=lambda item: item[0] != SOURCE_LANGUAGE):
        if not examples and (language != SOURCE_LANGUAGE or len(by_language) > 1):
            continue
        lines.append(f"- intent: {OUT_OF_SCOPE}")
        if language != SOURCE_LANGUAGE:
            lines += ["  metadata:", f"    language: {language}"]
        lines.append("  examples: |")
        lines += [f"    - {_example(example)}" for example in examples]
    return "\n".join(lines) + "\n"

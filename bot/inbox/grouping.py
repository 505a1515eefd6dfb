"""Group similar inbox messages, most frequent first, so an editor handles a question once.

Texts are compared by `bot.inbox.clusters.close` after ``bot.content.similar.normalise`` (case,
accents, punctuation and word order removed), by difflib's ratio like ``content check``'s
near-duplicate rule, or by shared character trigrams, which catches a typo or a word added.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot.content.similar import fold_for_similarity as normalise
from bot.inbox.clusters import close
from bot.inbox.store import Item


@dataclass(frozen=True)
class Group:
    """Similar messages: the most common wording first, then the rest newest first."""

    items: tuple[Item, ...]

    @property
    def id(self) -> str:
        """The group's handle in forms: its first message's id."""
        return self.items[0].message.id

    @property
    def text(self) -> str:
        return self.items[0].message.text

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def ids(self) -> list[str]:
        return [item.message.id for item in self.items]

    @property
    def reasons(self) -> list[tuple[str, int]]:
        return Counter(r for item in self.items for r in item.reasons).most_common()

    @property
    def declines(self) -> list[tuple[str, int]]:
        """Why the assistant declined its messages (`selection.DECLINE_REASONS` keys), most frequent first."""
        return Counter(item.message.decline for item in self.items if item.message.decline).most_common()

    @property
    def intents(self) -> list[tuple[str, int]]:
        return Counter(item.message.intent for item in self.items if item.message.intent).most_common()

    @property
    def latest(self) -> float:
        return max(item.message.time for item in self.items)


def group_items(items: list[Item]) -> list[Group]:
    """Greedy single pass against each group's first text: for a few hundred messages (the pages use
    the clusters the recorder keeps, `bot.inbox.clusters`)."""
    heads: list[str] = []
    members: list[list[Item]] = []
    for item in sorted(items, key=lambda i: -i.message.time):
        key = normalise(item.message.text)
        for index, head in enumerate(heads):
            if close(key, head):
                members[index].append(item)
                break
        else:
            heads.append(key)
            members.append([item])
    groups = [Group(tuple(_ordered(found))) for found in members]
    return sorted(groups, key=lambda g: (-g.count, -g.latest))


def _ordered(items: list[Item]) -> list[Item]:
    wordings = Counter(item.message.text for item in items)
    return sorted(items, key=lambda i: (-wordings[i.message.text], -i.message.time))


def find_group(groups: list[Group], group_id: str) -> Group | None:
    """The group that holds message ``group_id`` now (it may have grown since the page was shown)."""
    return next((g for g in groups if group_id in g.ids), None)

"""Grouping: the same question in different wordings is one group; the most frequent comes first."""

from __future__ import annotations

from bot.inbox.grouping import group_items
from bot.inbox.selection import Message
from bot.inbox.store import Item


def item(n: int, text: str) -> Item:
    return Item(Message(f"id{n}", f"c{n}", "socketio", "nlu_fallback", 0.3, text, 1000.0 + n), ("fallback",))


def test_similar_messages_are_grouped_most_frequent_first() -> None:
    items = [
        item(1, "Is the dump open on Sunday?"),
        item(2, "when does the library open"),
        item(3, "is the dump open sunday"),
        item(4, "is teh dump open on sundays"),
        item(5, "sunday: is the dump open?"),
        item(6, "When does the library open?"),
        item(7, "can i keep chickens in my yard"),
    ]
    groups = group_items(items)
    assert [(g.count, sorted(g.ids)) for g in groups] == [
        (4, ["id1", "id3", "id4", "id5"]),
        (2, ["id2", "id6"]),
        (1, ["id7"]),
    ]
    assert groups[0].reasons == [("fallback", 4)]


def test_unrelated_questions_sharing_words_stay_apart() -> None:
    groups = group_items([item(1, "how do i pay my water bill"), item(2, "how do i pay a parking ticket")])
    assert len(groups) == 2

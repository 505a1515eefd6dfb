"""The inbox in the console: editors see grouped messages and their decisions change the content files."""

from __future__ import annotations

import re
import time
from typing import Any

import redis as redis_sync
import yaml
from a11y_support import assert_no_wcag_violations
from inbox_support import PASSWORDS, Console, action, user
from playwright.sync_api import expect
from redis.asyncio import Redis
from stack_support import run_in_thread

from bot.content.model import load_content
from bot.inbox.selection import Message
from bot.inbox.store import InboxStore


def questions_of(console: Console, entry_id: str) -> list[str]:
    entries = [e for t in load_content(console.content_dir) for e in t.entries if e.id == entry_id]
    return list(entries[0].questions)


def unsure(sender: str, text: str) -> list[dict[str, Any]]:
    return [user(sender, text, "nlu_fallback", 0.31), action(sender, "action_prepare_clarification")]


def test_editor_groups_via_the_api_and_adds_an_example(inbox: Console) -> None:
    inbox.publish(
        *unsure("a1", "can i leave a fridge out for pickup, call 555-867-5309"),
        *unsure("a2", "can I leave a fridge out for pickup?"),
        *unsure("a3", "why is the sky so blue"),
    )
    groups = inbox.wait_for_groups(2, lambda gs: sum(g["reasons"].get("clarification", 0) for g in gs) == 3)
    assert [(g["count"], g["reasons"]) for g in groups] == [
        (2, {"fallback": 2, "clarification": 2}),
        (1, {"fallback": 1, "clarification": 1}),
    ]
    assert [g["declines"] for g in groups] == [
        {"unknown": 2},
        {"unknown": 1},
    ]  # a fallback, its cause not told
    assert all("555" not in m["text"] for g in groups for m in g["messages"])
    status, body = inbox.api(
        "POST",
        f"/api/inbox/groups/{groups[0]['id']}/example",
        {"faq": "bulky_item_pickup", "text": "can i leave a fridge out for pickup"},
    )
    assert (status, body["done"]) == (200, "example"), body
    assert questions_of(inbox, "bulky_item_pickup")[-1] == "can i leave a fridge out for pickup"
    groups = inbox.api("GET", "/api/inbox/groups")[1]["groups"]
    assert [g["text"] for g in groups] == ["why is the sky so blue"]


def test_the_api_refuses_agents_and_bad_decisions(inbox: Console) -> None:
    inbox.publish(*unsure("b1", "what's the capital of peru"))
    group = inbox.wait_for_groups(1)[0]
    assert inbox.api("GET", "/api/inbox/groups", who="sam")[0] == 403
    status, body = inbox.api(
        "POST", f"/api/inbox/groups/{group['id']}/example", {"faq": "nope", "text": "x y"}
    )
    assert (status, body) == (400, {"error": "there is no FAQ with id 'nope'"})
    assert inbox.api("POST", "/api/inbox/groups/0000/dismiss", {})[0] == 404
    status, body = inbox.api("POST", f"/api/inbox/groups/{group['id']}/out-of-scope", {})
    assert status == 200, body
    staff = (inbox.project / "data/nlu/out_of_scope.staff.yml").read_text(encoding="utf-8")
    assert "    - what's the capital of peru\n" in staff


def sign_in(page: Any, url: str, name: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/$"))


def test_browser_editor_assigns_an_inbox_message_to_a_faq(inbox: Console, page: Any) -> None:
    xss = "<img src=x onerror=alert(1)> how do i book a pickup for an old piano"
    inbox.publish(*unsure("w1", xss), user("w2", "is parking free on sunday", "faq", 0.35))
    inbox.wait_for_groups(2)
    sign_in(page, inbox.url, "ella")
    page.get_by_role("link", name="Inbox").click()
    page.wait_for_url(f"{inbox.url}/inbox")
    section = page.get_by_role("region", name=re.compile("old piano"))
    assert xss in section.get_by_role("heading").inner_text()  # shown as text, not run
    assert page.locator("img[src=x]").count() == 0
    section.get_by_label(re.compile("Question, as it will be trained")).fill(
        "how do i book a pickup for an old piano"
    )
    section.get_by_label(re.compile("FAQ \\(type to search")).fill("bulky_item_pickup")
    section.get_by_role("button", name="Add to FAQ").click()
    page.wait_for_url(re.compile(r".*/inbox\?done=example"))
    assert "Added as an example question of bulky_item_pickup" in page.locator("#inbox-notice").inner_text()
    assert page.get_by_role("region", name=re.compile("old piano")).count() == 0
    assert questions_of(inbox, "bulky_item_pickup")[-1] == "how do i book a pickup for an old piano"
    generated = (inbox.project / "data/nlu/content.generated.yml").read_text(encoding="utf-8")
    assert "    - how do i book a pickup for an old piano\n" in generated


def store_directly(console: Console, message: Message, reasons: list[str]) -> None:
    """An inbox item written straight to the store, with fields the recorder would never write."""

    async def add() -> None:
        client = Redis.from_url(console.redis_url, decode_responses=True)
        try:
            await InboxStore(client, 30 * 86400).add(message, reasons)
        finally:
            await client.close()

    run_in_thread(add, 30, "storing an inbox item")


def test_browser_declined_groups_show_why(inbox: Console, page: Any) -> None:
    far = user("r1", "best pizza near me", "out_of_scope", 1.0)
    far["parse_data"]["domain_gate"] = {"score": 31.0, "out_of_domain": True}
    inbox.publish(far, action("r1", "utter_out_of_scope"))
    inbox.wait_for_groups(1)
    hostile = "<img src=x onerror=alert(1)>"
    zoo = Message("zoo1", "r2", "socketio", "nlu_fallback", 0.3, "is the zoo open late", time.time(), hostile)
    store_directly(inbox, zoo, ["fallback"])
    sign_in(page, inbox.url, "ella")
    page.goto(f"{inbox.url}/inbox")
    pizza = page.get_by_role("region", name=re.compile("pizza"))
    assert "Declined because: out of domain (1)." in pizza.locator(".meta").first.inner_text()
    assert "declined: out of domain" in (pizza.locator(".examples").text_content() or "")  # examples folded
    meta = page.get_by_role("region", name=re.compile("zoo")).locator(".meta").first.inner_text()
    assert f"Declined because: {hostile} (1)." in meta  # shown as text, not run
    assert page.locator("img[src=x]").count() == 0


def test_browser_keyboard_draft_then_refusal_is_explained(inbox: Console, page: Any) -> None:
    inbox.publish(*unsure("k1", "can i get a permit for a bouncy castle in the park"))
    inbox.wait_for_groups(1)
    sign_in(page, inbox.url, "ella")
    page.goto(f"{inbox.url}/inbox")
    section = page.get_by_role("region", name=re.compile("bouncy castle"))
    section.get_by_role("button", name="Add to FAQ").click()  # no FAQ chosen
    assert "choose the FAQ" in page.get_by_role("alert").inner_text()
    page.get_by_role("link", name="Start a new FAQ draft").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/draft$"))
    assert page.get_by_label("Example questions (one per line)").input_value() == (
        "can i get a permit for a bouncy castle in the park"
    )
    page.get_by_label(re.compile("^Id")).fill("bouncy_castle_permit")
    page.get_by_label("Topic").select_option(label="Parks, pools and libraries")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r".*/inbox\?done=draft"))
    drafts = (inbox.content_dir / "_drafts.yml").read_text(encoding="utf-8")
    assert "bouncy_castle_permit" in drafts
    page.goto(f"{inbox.url}/inbox/drafts")
    assert page.get_by_role("heading", name="bouncy_castle_permit").count() == 1


def test_agents_cannot_open_the_inbox_and_forms_need_the_csrf_token(inbox: Console, page: Any) -> None:
    inbox.publish(*unsure("c1", "where do i vote"))
    group = inbox.wait_for_groups(1)[0]
    sign_in(page, inbox.url, "sam")
    assert page.get_by_role("link", name="Inbox").count() == 0
    assert page.goto(f"{inbox.url}/inbox").status == 403
    page.context.clear_cookies()
    sign_in(page, inbox.url, "ella")
    response = page.request.post(
        f"{inbox.url}/inbox/groups/{group['id']}/dismissed", form={"text": "where do i vote"}
    )
    assert response.status == 403
    assert len(inbox.api("GET", "/api/inbox/groups")[1]["groups"]) == 1


def test_every_inbox_page_passes_the_wcag_rules(inbox: Console, page: Any) -> None:
    """Each inbox page, the inbox empty and filled, with its examples open, its notices and its refusals."""
    sign_in(page, inbox.url, "ella")
    page.goto(f"{inbox.url}/inbox")
    expect(page.get_by_text("The inbox is empty.")).to_be_visible()
    assert_no_wcag_violations(page, "the empty inbox")
    page.goto(f"{inbox.url}/inbox/drafts")  # drafts of earlier tests may be there (the content is per module)
    expect(page.get_by_role("heading", name="FAQ and rumor drafts")).to_be_visible()
    assert_no_wcag_violations(page, "the drafts page")

    inbox.publish(*unsure("x1", "do you pick up christmas trees"))
    group = inbox.wait_for_groups(1)[0]
    page.goto(f"{inbox.url}/inbox")
    section = page.get_by_role("region", name=re.compile("christmas trees"))
    section.get_by_text("Example messages").click()
    expect(section.locator(".examples")).to_be_visible()
    assert_no_wcag_violations(page, "the inbox with a group, its examples open")
    section.get_by_role("button", name="Add to FAQ").click()  # no FAQ chosen: refused
    expect(page.get_by_role("alert")).to_contain_text("choose the FAQ")
    assert_no_wcag_violations(page, "the inbox after a refused decision")

    page.goto(f"{inbox.url}/inbox/groups/{group['id']}/rumor")
    assert_no_wcag_violations(page, "a new rumor draft")
    page.get_by_label(re.compile("^Id")).fill("christmas_tree_rumor")
    page.get_by_label(re.compile("^Claim")).fill("The city no longer picks up Christmas trees.")
    page.get_by_role("button", name="Save rumor draft").click()  # no verdict chosen: refused
    expect(page.get_by_role("alert")).to_contain_text("a rumor needs verdict true / false / misleading")
    assert_no_wcag_violations(page, "a refused rumor draft")

    page.goto(f"{inbox.url}/inbox/groups/{group['id']}/draft")
    assert_no_wcag_violations(page, "a new FAQ draft")
    page.get_by_label(re.compile("^Id")).fill("christmas_tree_pickup")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r".*/inbox\?done=draft"))
    expect(page.locator("#inbox-notice")).not_to_be_empty()
    assert_no_wcag_violations(page, "the inbox with a notice")
    page.goto(f"{inbox.url}/inbox/drafts")
    draft = page.get_by_role("region", name="christmas_tree_pickup")
    expect(draft).to_be_visible()
    assert_no_wcag_violations(page, "the drafts page with a draft")
    draft.get_by_role("button", name="Publish").click()  # no answer, source or department yet: refused
    expect(page.get_by_role("alert")).to_be_visible()
    assert_no_wcag_violations(page, "the drafts page after a refused publication")


# --- the inbox at scale, rumor drafts, the "did not help" reply (issue #18) -------------------------

DISTINCT = [
    "is the dump open on sunday", "how do i pay my water bill", "can i keep chickens in my yard",
    "where do i vote", "when is leaf collection", "how late is the library open",
    "do i need a permit for a fence", "my streetlight is out", "how do i report a pothole",
    "can i park overnight downtown", "what is the property tax rate", "how do i adopt a dog from the shelter",
    "is the pool heated", "who picks up dead animals", "how do i get a birth certificate",
    "when is the next council meeting", "can i burn leaves in my backyard", "where can i recycle batteries",
    "how do i contest a parking ticket", "is there a curfew for teens", "do you have snow plow schedules",
    "how do i start a food truck business", "are fireworks legal here", "can i rent the community center",
    "where is the nearest cooling center",
]  # fmt: skip


def store_many(console: Console, messages: list[tuple[Message, list[str]]]) -> None:
    async def add() -> None:
        client = Redis.from_url(console.redis_url, decode_responses=True)
        try:
            store = InboxStore(client, 30 * 86400)
            for message, reasons in messages:
                await store.add(message, reasons)
        finally:
            await client.close()

    run_in_thread(add, 120, "storing inbox items")


def test_browser_a_2000_message_inbox_is_served_from_its_clusters_a_page_at_a_time(
    inbox: Console, page: Any
) -> None:
    now = time.time() - 3600
    messages = []
    for rank, question in enumerate(DISTINCT):  # 140, 135, ... 20 messages: 2,000 in all
        for n in range(140 - 5 * rank):
            text = [question, question.capitalize() + "?", question.upper() + "!!"][n % 3]
            when = now + rank + n / 1000
            messages.append(
                (
                    Message(f"q{rank}-{n}", f"c{rank}-{n}", "socketio", "nlu_fallback", 0.3, text, when),
                    ["fallback"],
                )
            )
    store_many(inbox, messages)
    # The list of every recorded message goes: a page that regrouped the messages would find none;
    # the clusters made when each message was recorded still hold them all.
    redis_sync.Redis.from_url(inbox.redis_url).delete("inbox:items")

    status, body = inbox.api("GET", "/api/inbox/groups?limit=30")
    assert status == 200 and body["total"] == 25
    assert [g["count"] for g in body["groups"]] == [140 - 5 * rank for rank in range(25)]
    assert body["groups"][0]["reasons"] == {"fallback": 140} and len(body["groups"][0]["messages"]) == 5
    sign_in(page, inbox.url, "ella")
    page.goto(f"{inbox.url}/inbox")
    sections = page.locator("section.inbox-group")
    expect(sections).to_have_count(20)
    assert "140 messages" in sections.first.get_by_role("heading").inner_text()
    expect(page.get_by_role("navigation", name="Inbox pages")).to_contain_text("Page 1 of 2 (25 groups)")
    page.get_by_role("link", name="Next page").click()
    expect(sections).to_have_count(5)
    assert "20 messages" in sections.last.get_by_role("heading").inner_text()
    assert DISTINCT[-1] in sections.last.get_by_role("heading").inner_text().lower()


def test_rumor_drafts_through_the_api_are_refused_with_the_content_rule(inbox: Console) -> None:
    inbox.publish(*unsure("r1", "heard the city pool is closing for good"))
    group = inbox.wait_for_groups(1)[0]
    rumor = {
        "id": "pool_closing_rumor",
        "topic": "parks_library",
        "claim": "The city pool is closing for good.",
        "verdict": "maybe",
    }
    status, body = inbox.api("POST", f"/api/inbox/groups/{group['id']}/rumor", rumor)
    assert (status, body) == (
        400,
        {"error": "pool_closing_rumor: a rumor needs verdict true / false / misleading"},
    )
    status, body = inbox.api("POST", f"/api/inbox/groups/{group['id']}/rumor", {**rumor, "verdict": "false"})
    assert (status, body["done"], body["faq"]) == (200, "rumor", "pool_closing_rumor"), body
    drafts = yaml.safe_load((inbox.content_dir / "_drafts.yml").read_text(encoding="utf-8"))["drafts"]
    draft = next(d for d in drafts if d["id"] == "pool_closing_rumor")
    assert (draft["kind"], draft["verdict"], draft["questions"]) == (
        "rumor",
        "false",
        ["heard the city pool is closing for good"],
    )
    assert inbox.api("GET", "/api/inbox/groups")[1]["groups"] == []


def test_browser_the_reply_after_did_not_help_shows_the_answer_it_was_about(
    inbox: Console, page: Any
) -> None:
    text = "can you take a couch from the curb"
    reply = Message("nh1", "h1", "socketio", "faq/bulky", 0.9, text, time.time(), answer="bulky_item_pickup")
    store_directly(inbox, reply, ["not_helpful"])
    sign_in(page, inbox.url, "ella")
    page.goto(f"{inbox.url}/inbox")
    meta = page.get_by_role("region", name=re.compile("couch")).locator(".meta").first.inner_text()
    assert "Why: said an answer did not help (1)." in meta
    assert "Answer that did not help: bulky_item_pickup (1)." in meta

"""The inbox in the console: editors see grouped messages and their decisions change the content files."""

from __future__ import annotations

import re
import time
from typing import Any

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
    expect(page.get_by_role("heading", name="FAQ drafts")).to_be_visible()
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

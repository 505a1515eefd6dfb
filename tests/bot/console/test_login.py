"""Signing in and out of the console in a browser: wrong passwords, the lock, sessions, redirects, CSRF,
and the editors' audit log page. (Throttling under concurrency, session expiry and revocation, the
websocket's origin and the audit log's contents are tested over HTTP in this package's other modules.)"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import redis
from a11y_support import assert_no_wcag_violations
from console_support import PASSWORDS, serve, sign_in
from playwright.sync_api import expect
from stack_support import console_config


def test_wrong_password_is_refused_with_a_message(fresh, page):
    sign_in(page, fresh.url, "dana", "not-her-password")
    expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")
    assert page.url.endswith("/login")
    # An unknown name gets the same answer, so names cannot be probed.
    sign_in(page, fresh.url, "nobody", "whatever-pw")
    expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")


def test_right_password_signs_in_and_logout_ends_the_session(fresh, page):
    sign_in(page, fresh.url, "dana")
    expect(page).to_have_url(f"{fresh.url}/")
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    expect(page.get_by_text("Signed in as dana")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "civic_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{fresh.url}/login")
    # The old cookie is dead on the server too, not just deleted in this browser.
    page.context.add_cookies([{**cookie}])
    page.goto(f"{fresh.url}/")
    expect(page).to_have_url(f"{fresh.url}/login")


def test_repeated_failures_lock_the_account_for_a_while(fresh, page):
    for _ in range(4):
        sign_in(page, fresh.url, "lee", "guess-guess")
        expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")
    sign_in(page, fresh.url, "lee", "guess-guess")
    expect(page.get_by_role("alert")).to_have_text(
        re.compile(r"Too many sign-in attempts\. Try again in 1[45] minutes\.")
    )
    # Even the right password is refused until the window passes.
    sign_in(page, fresh.url, "lee")
    expect(page.get_by_role("alert")).to_contain_text("Too many sign-in attempts")
    assert page.url.endswith("/login")


def test_editors_read_and_filter_the_audit_log_agents_do_not_see_it(fresh, page):
    redis.Redis.from_url(fresh.redis_url).delete("civic:audit")  # `fresh` keeps the other tests' entries
    sign_in(page, fresh.url, "lee", "guess-guess")
    sign_in(page, fresh.url, "dana")
    expect(page.get_by_text("Signed in as dana")).to_be_visible()
    assert page.get_by_role("link", name="Audit log").count() == 0
    assert page.goto(f"{fresh.url}/audit").status == 403
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, fresh.url, "erin")
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("row", name=re.compile(r"dana\s+Signed out"))).to_be_visible()
    assert_no_wcag_violations(page, "the audit log")
    page.get_by_label("What").select_option(label="Sign-in failed")
    page.get_by_role("button", name="Show").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.get_by_role("row", name=re.compile(r"lee\s+Sign-in failed"))).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "at,actor,action,target,address,detail" and len(lines) == 2 and ",lee," in lines[1]
    page.goto(f"{fresh.url}/audit?from=not-a-date")
    expect(page.get_by_role("alert")).to_have_text("From must be a date like 2026-03-01")
    assert_no_wcag_violations(page, "the audit log with a refused filter")


@pytest.mark.parametrize("path", ["/", "/conversations/some-chat"])
def test_pages_redirect_to_the_sign_in_page(fresh, page, path):
    page.goto(fresh.url + path)
    expect(page).to_have_url(f"{fresh.url}/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def _post(url: str, data: dict[str, str], cookie: str = "") -> int:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode(), method="POST")
    if cookie:
        request.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_login_form_without_its_csrf_token_is_refused(fresh):
    status = _post(f"{fresh.url}/login", {"name": "dana", "password": PASSWORDS["dana"]})
    assert status == 403


def test_posts_without_the_session_csrf_token_are_refused(fresh, page):
    fresh.enqueue("csrf-chat")
    sign_in(page, fresh.url, "dana")
    expect(page).to_have_url(f"{fresh.url}/")
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    # A forged cross-site form or script has the cookie but not the token.
    assert _post(f"{fresh.url}/logout", {}, cookies) == 403
    assert _post(f"{fresh.url}/api/conversations/csrf-chat/claim", {}, cookies) == 403
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert _post(f"{fresh.url}/logout", {"csrf_token": "x" + token}, cookies) == 403
    # The page's own requests carry it and get through; the session survived the forgeries.
    response = page.request.get(f"{fresh.url}/api/queue")
    assert response.status == 200
    assert [e["status"] for e in response.json()] == ["waiting"]
    api = f"{fresh.url}/api/conversations/csrf-chat/messages"
    assert page.request.post(api, data={}).status == 403
    answered = page.request.post(api, data={"text": ""}, headers={"X-CSRF-Token": token})
    assert answered.status == 400  # past the CSRF check, refused only for the empty text


def test_a_restarted_console_keeps_agents_signed_in(fresh, page):
    sign_in(page, fresh.url, "dana")
    expect(page.get_by_text("Signed in as dana")).to_be_visible()
    # A second console process on the same Redis and accounts stands for the restarted one
    # (cookies are per host, not per port, so the browser sends the same session cookie).
    with serve(console_config(fresh.redis_url, fresh.agents_file)) as restarted:
        page.goto(f"{restarted}/")
        expect(page.get_by_text("Signed in as dana")).to_be_visible()

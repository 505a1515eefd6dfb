"""Exactly one POST per confirmation: retries, double taps and races all get the first outcome."""

from __future__ import annotations

import asyncio
import time

import pytest
from lookup_support import API_KEY, Conversation, agency_env, entity
from rasa.core.actions.action import RemoteAction

from actions.resources import close_resources, open_resources
from bot.agency_config import AgencyConfig
from bot.settings import Settings

POSTS = ("POST", "/open311/v2/requests.json")


async def confirmed(chat: Conversation, where: str = "12 Elm St", problem: str = "pothole") -> None:
    """A report collected and confirmed; the citizen has just said "yes"."""
    text = f"{problem} at {where}"
    chat.user(text, "report_problem", entities=[entity("address", where, text)])
    await chat.run("report_issue_form")
    for reply in ("deep hole in the bike lane", "skip"):
        chat.user(reply, "inform")
        await chat.run("report_issue_form")
    await chat.run("action_confirm_report")
    chat.user("/affirm", "affirm")


async def test_a_retried_submit_action_files_once_and_repeats_the_number(conversation, demo):
    await confirmed(conversation)
    chat, submit = conversation, RemoteAction("action_submit_report", conversation.endpoint)
    first = await submit.run(chat.channel, chat.nlg, chat.tracker, chat.domain)
    again = await submit.run(chat.channel, chat.nlg, chat.tracker, chat.domain)
    texts = [[e.text for e in events if getattr(e, "text", None)] for events in (first, again)]
    assert texts[0] == texts[1] and "request 512089" in texts[0][0]
    assert demo.hits_on(*POSTS) == 1


async def test_a_double_tapped_yes_files_once(conversation, demo):
    await confirmed(conversation)
    (filed,) = await conversation.run("action_submit_report")
    conversation.user("/affirm", "affirm")  # the second tap, and the action predicted again
    (repeat,) = await conversation.run("action_submit_report")
    assert filed == repeat and "request 512089" in filed
    assert demo.hits_on(*POSTS) == 1


async def test_two_taps_racing_each_other_file_once(conversation, demo):
    await confirmed(conversation)
    chat = conversation
    runs = [
        RemoteAction("action_submit_report", chat.endpoint).run(chat.channel, chat.nlg, tracker, chat.domain)
        for tracker in (chat.tracker, chat.tracker.copy())
    ]
    said = [e.text for events in await asyncio.gather(*runs) for e in events if getattr(e, "text", None)]
    assert demo.hits_on(*POSTS) == 1
    assert any("request 512089" in t for t in said)
    assert all("request 512089" in t or "I'm already sending that report" in t for t in said)


async def test_each_new_confirmation_is_a_new_report(conversation, demo):
    await confirmed(conversation)
    await conversation.run("action_submit_report")
    await confirmed(conversation, "88 Main St")
    (second,) = await conversation.run("action_submit_report")
    assert "request 512090" in second
    assert demo.hits_on(*POSTS) == 2


async def test_yes_with_nothing_to_file(conversation, demo):
    conversation.user("/affirm", "affirm")
    (said,) = await conversation.run("action_submit_report")
    assert said.startswith("There's no report waiting to be sent.")
    assert demo.hits_on(*POSTS) == 0


@pytest.fixture
async def broken(request, other_city, demo, redis_url, clock, domain, action_endpoint):
    overrides = {"OPEN311_BASE_URL": other_city.open311}
    overrides.update(request.param)
    config = AgencyConfig.from_settings(Settings.from_env(agency_env(demo, redis_url, **overrides)))
    await open_resources(config, clock=clock)
    yield Conversation(domain, action_endpoint)
    await close_resources()


@pytest.mark.parametrize("broken", [{}], indirect=True)
async def test_a_post_that_times_out_may_have_arrived(broken, other_city):
    await confirmed(broken, "8th Ave and Judah St", "street light out")
    other_city.mode = "slow"
    started = time.monotonic()
    (said,) = await broken.run("action_submit_report")
    assert time.monotonic() - started < 4
    assert "can't tell whether your report arrived" in said
    assert other_city.hits.count(POSTS) == 1
    broken.user("/affirm", "affirm")
    (again,) = await broken.run("action_submit_report")
    assert again == said and other_city.hits.count(POSTS) == 1


@pytest.mark.parametrize("broken", [{"REDIS_URL": "redis://127.0.0.1:1/0"}], indirect=True)
async def test_without_the_guard_nothing_is_filed(broken, other_city):
    await confirmed(broken, "8th Ave and Judah St", "street light out")
    (said,) = await broken.run("action_submit_report")
    assert "I couldn't file your report, and nothing was sent" in said
    assert other_city.hits.count(POSTS) == 0


async def test_a_refused_report_says_nothing_was_sent(demo, redis_url, clock, domain, action_endpoint):
    config = AgencyConfig.from_settings(
        Settings.from_env(agency_env(demo, redis_url, OPEN311_API_KEY="wrong-" + API_KEY))
    )
    await open_resources(config, clock=clock)
    try:
        chat = Conversation(domain, action_endpoint)
        await confirmed(chat)
        (said,) = await chat.run("action_submit_report")
        assert "nothing was sent" in said and "555-010-3110" in said
    finally:
        await close_resources()


async def test_nothing_is_filed_without_a_confirmation(conversation, demo):
    text = "pothole at 12 Elm St"
    conversation.user(text, "report_problem", entities=[entity("address", "12 Elm St", text)])
    await conversation.run("report_issue_form")
    for reply in ("deep hole", "skip"):
        conversation.user(reply, "inform")
        await conversation.run("report_issue_form")
    conversation.user("/affirm", "affirm")  # a "yes" that answers no confirmation
    (said,) = await conversation.run("action_submit_report")
    assert said.startswith("There's no report waiting to be sent.")
    assert demo.hits_on(*POSTS) == 0

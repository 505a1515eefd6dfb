"""Live lookups end to end over the REST channel: Rasa, the action server, Redis and the demo agency.

The citizen files a 311 report through the form and then asks for its status; the other lookups
are asked the way citizens ask them. Every answer comes from the demo agency at that moment.
"""

from __future__ import annotations

import re

import pytest
from stack_support import RestClient, sender_id

pytestmark = pytest.mark.stack


def test_file_a_report_then_read_its_status(rest: RestClient):
    user = sender_id("report")
    ask_type = rest.send(user, "i want to report a problem")
    titles = [b["title"] for m in ask_type for b in m.get("buttons", [])]
    assert "Pothole" in titles, ask_type
    pothole = next(b["payload"] for m in ask_type for b in m.get("buttons", []) if b["title"] == "Pothole")
    assert "Where is it?" in rest.say(user, pothole)
    assert "Tell me a bit about it" in rest.say(user, "12 Elm Street")
    assert "email or phone number" in rest.say(user, "about a meter wide, in the right lane")
    confirm = rest.say(user, "skip")
    assert "Please check your report" in confirm and "12 Elm Street" in confirm and "Pothole" in confirm

    filed = rest.say(user, "yes")
    match = re.search(r"filed as request (\d+)", filed)
    assert match, filed
    number = match.group(1)
    assert rest.say(user, "yes") != filed, "a second yes must not file the report again"

    status = rest.say(sender_id("status"), f"what's the status of request {number}")
    assert number in status and "Pothole" in status and "harborcity.example/311" in status


def test_request_status_in_the_agency_formats(rest: RestClient):
    for text in ("any update on #512077?", "check on SR-512077 pls"):
        reply = rest.say(sender_id(), text)
        assert "512077" in reply and "Last update" in reply, (text, reply)


def test_an_unknown_request_number_is_said_plainly(rest: RestClient):
    reply = rest.say(sender_id(), "status of request 999999")
    assert "can't find request 999999" in reply


def test_alerts_hours_collection_and_online_services(rest: RestClient):
    alerts = rest.say(sender_id(), "are there any alerts right now?")
    assert "harborcity.example/alerts" in alerts
    library = rest.say(sender_id(), "is the Central Library open now?")
    assert "Central Library" in library and ("open" in library or "closed" in library)
    user = sender_id("collection")
    trash = rest.say(user, "when is my trash day? I live at 12 Elm St")
    assert "12 Elm Street" in trash and "harborcity.example/trash" in trash
    again = rest.say(user, "when is the next trash pickup")
    assert "12 Elm Street" in again, "the address is remembered for the conversation"
    portals = rest.say(sender_id(), "is the payment portal down?")
    assert "Payments portal" in portals

"""A shared location pin as channels write it, and read back (more cases: tests/actions/test_parsing.py)."""

from __future__ import annotations

from bot.location import coordinates, location_pin, pin_message


def test_locations() -> None:
    assert pin_message(41.304121, -72.924712) == (
        "41.30412, -72.92471",
        {"location": {"lat": 41.304121, "long": -72.924712}},
    )
    assert pin_message("41.3", "-72.9") == ("41.30000, -72.90000", {"location": {"lat": 41.3, "long": -72.9}})
    for lat, long in [(91, 0), (0, 181), ("x", 0), (None, 1), (True, 1), (float("nan"), 1)]:
        assert pin_message(lat, long) is None


def test_what_a_channel_writes_the_actions_read() -> None:
    message = pin_message(41.304121, -72.924712)
    assert message is not None
    text, metadata = message
    assert location_pin(metadata) == (41.304121, -72.924712)
    assert coordinates(text) == (41.30412, -72.92471)

"""Collection schedule by address: the agency matches the address, NotFound only when it says so."""

from __future__ import annotations

from datetime import date

import pytest

from bot.clients.collection import CollectionClient
from bot.clients.errors import AgencyUnavailable, NotFound

PATH = "/collection.json"


async def test_a_schedule_is_read_with_next_dates_in_order(session, canned):
    canned.reply("GET", PATH, fixture="collection/schedule_12_elm.json")
    schedule = await CollectionClient(session, canned.base_url).schedule("  12 Elm St ")
    assert canned.hits[0].query == {"address": "12 Elm St"}
    assert schedule.address == "12 Elm Street" and schedule.district == "Downtown"
    assert schedule.note == "Put carts at the curb by 6 am."
    trash = schedule.pickup("trash")
    assert trash is not None and trash.day == "tuesday" and trash.frequency == "weekly"
    assert trash.next_pickups == (date(2026, 12, 1), date(2026, 12, 8), date(2026, 12, 15))
    assert trash.next_pickup == date(2026, 12, 1)
    yard = schedule.pickup("yard_waste")
    assert yard is not None and yard.frequency == "monthly" and yard.next_pickup == date(2027, 1, 6)
    assert yard.note.startswith("Green bin")
    assert schedule.pickup("compost") is None


async def test_an_unknown_address_is_not_found(session, canned):
    canned.reply("GET", PATH, status=404, fixture="collection/not_found.json")
    with pytest.raises(NotFound, match="address not in the collection schedule"):
        await CollectionClient(session, canned.base_url).schedule("1 Nowhere Road")


async def test_a_bare_404_is_a_wrong_url_not_an_unknown_address(session, canned):
    with pytest.raises(AgencyUnavailable, match="wrong base URL") as caught:
        await CollectionClient(session, canned.base_url + "/typo").schedule("12 Elm St")
    assert not isinstance(caught.value, NotFound)


async def test_an_empty_address_never_reaches_the_agency(session, canned):
    with pytest.raises(NotFound):
        await CollectionClient(session, canned.base_url).schedule("   ")
    assert canned.hits == []


@pytest.mark.parametrize(
    "body,reason",
    [
        ('{"address": "12 Elm Street"}', "pickups is not a list"),
        ('{"address": "x", "pickups": [{"stream": "trash", "next_pickups": ["Tuesday"]}]}', "next_pickups"),
        ('{"pickups": []}', "address"),
        ("[]", "not an object"),
    ],
)
async def test_a_schedule_in_the_wrong_shape_is_unavailable(session, canned, body, reason):
    canned.reply("GET", PATH, body=body)
    with pytest.raises(AgencyUnavailable, match=reason):
        await CollectionClient(session, canned.base_url).schedule("12 Elm St")

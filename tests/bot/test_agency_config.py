"""AgencyConfig: the only reader of the live-lookup environment variables."""

from __future__ import annotations

import pytest

from bot.agency_config import AgencyConfig
from bot.settings import Settings


def test_unset_urls_point_at_the_demo_agency():
    config = AgencyConfig.from_settings(
        Settings.from_env({"DEMO_AGENCY_PORT": "8100", "DEMO_AGENCY_API_KEY": "k"})
    )
    assert config.open311_base_url == "http://127.0.0.1:8100/open311/v2"
    assert config.alerts_url == "http://127.0.0.1:8100/alerts.geojson"
    assert (
        config.facilities_url == config.collection_url == config.service_status_url == "http://127.0.0.1:8100"
    )
    assert config.open311_api_key == "k"
    assert (config.timezone, config.timeout_seconds, config.alerts_format) == (
        "America/New_York",
        3.0,
        "geojson",
    )
    assert config.redis_url == "redis://127.0.0.1:6379/0"
    assert config.uses_demo


def test_an_agencys_own_apis():
    config = AgencyConfig.from_settings(
        Settings.from_env(
            {
                "OPEN311_BASE_URL": "https://311.example.gov/open311/v2/",
                "OPEN311_API_KEY": "secret",
                "OPEN311_JURISDICTION_ID": "example.gov",
                "DEMO_AGENCY_API_KEY": "not-this-one",
                "ALERTS_URL": "https://alerts.example.gov/cap.atom",
                "ALERTS_FORMAT": "CAP-ATOM",
                "FACILITIES_URL": "https://data.example.gov/facilities.json",
                "COLLECTION_URL": "https://data.example.gov/trash/",
                "SERVICE_STATUS_URL": "https://status.example.gov",
                "AGENCY_TIMEZONE": "America/Chicago",
                "AGENCY_TIMEOUT_SECONDS": "2.5",
                "REDIS_HOST": "cache.internal",
                "REDIS_PORT": "6380",
                "REDIS_DB": "2",
                "REDIS_PASSWORD": "pw",
            }
        )
    )
    assert config.open311_base_url == "https://311.example.gov/open311/v2"
    assert (config.open311_api_key, config.open311_jurisdiction_id) == ("secret", "example.gov")
    assert (config.alerts_url, config.alerts_format) == ("https://alerts.example.gov/cap.atom", "cap-atom")
    assert config.facilities_url == "https://data.example.gov"
    assert config.collection_url == "https://data.example.gov/trash"
    assert (config.timezone, config.timeout_seconds) == ("America/Chicago", 2.5)
    assert config.redis_url == "redis://:pw@cache.internal:6380/2"
    assert not config.uses_demo


def test_redis_url_wins_over_host_and_port():
    config = AgencyConfig.from_settings(
        Settings.from_env({"REDIS_URL": "redis://:pw@10.0.0.5:6390/1", "REDIS_HOST": "ignored"})
    )
    assert config.redis_url == "redis://:pw@10.0.0.5:6390/1"


def test_cap_atom_demo_feed():
    assert (
        AgencyConfig.from_settings(Settings.from_env({"ALERTS_FORMAT": "cap-atom"})).alerts_url
        == "http://127.0.0.1:8000/alerts.atom"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALERTS_FORMAT": "rss"}, "ALERTS_FORMAT"),
        ({"AGENCY_TIMEZONE": "Harbor/City"}, "AGENCY_TIMEZONE"),
        ({"AGENCY_TIMEOUT_SECONDS": "soon"}, "AGENCY_TIMEOUT_SECONDS"),
        ({"AGENCY_TIMEOUT_SECONDS": "0"}, "AGENCY_TIMEOUT_SECONDS"),
        ({"DEMO_AGENCY_PORT": "80.5"}, "DEMO_AGENCY_PORT"),
        ({"REDIS_DB": "-1"}, "REDIS_DB"),
    ],
)
def test_bad_values_say_which_variable(env, message):
    with pytest.raises(ValueError, match=message):
        AgencyConfig.from_settings(Settings.from_env(env))

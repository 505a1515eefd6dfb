"""The console's security rules come from the environment, in the units their names give."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.console.config import ConsoleConfig
from bot.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[3]


def test_the_rules_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "CONSOLE_PUBLIC_URL": "https://console.harborcity.example/",
            "CONSOLE_SESSION_IDLE_MINUTES": "10",
            "CONSOLE_SESSION_MAX_HOURS": "8",
            "CONSOLE_LOGIN_MAX_FAILURES": "3",
            "CONSOLE_LOGIN_MAX_FAILURES_PER_ADDRESS": "50",
            "CONSOLE_LOGIN_LOCKOUT_MINUTES": "30",
            "AUDIT_MAX_ENTRIES": "5000",
            "AUDIT_RETENTION_DAYS": "90",
            "TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1",
        }
    )
    config = ConsoleConfig.from_settings(settings)
    assert config.public_url == "https://console.harborcity.example"
    assert (config.session_idle_seconds, config.session_max_seconds) == (600, 8 * 3600)
    assert (config.login_max_failures, config.login_max_failures_per_address) == (3, 50)
    assert config.login_lockout_seconds == 1800
    assert (config.audit_max_entries, config.audit_retention_seconds) == (5000, 90 * 86400)
    assert config.trusted_proxies == ("10.0.0.0/8", "192.0.2.1")
    defaults = ConsoleConfig.from_settings(Settings.from_env({}))
    assert (defaults.session_idle_seconds, defaults.session_max_seconds) == (1800, 12 * 3600)
    assert (defaults.login_max_failures, defaults.login_lockout_seconds) == (5, 900)


@pytest.mark.parametrize(
    "env",
    [{"CONSOLE_SESSION_IDLE_MINUTES": "0"}, {"CONSOLE_LOGIN_MAX_FAILURES": "0"}, {"AUDIT_MAX_ENTRIES": "10"}],
)
def test_a_value_that_cannot_be_right_is_refused(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=next(iter(env))):
        Settings.from_env(env)


def test_a_bad_trusted_proxy_stops_the_console_with_one_line_naming_it() -> None:
    env = {**os.environ, "TRUSTED_PROXIES": "10.0.0.1, proxy.internal", "HANDOFF_PORT": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.console"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "error: TRUSTED_PROXIES: 'proxy.internal' is not an IP address or network"

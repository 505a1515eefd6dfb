"""The password policy and hash: 12 characters, not a common password, any length without a 500."""

from __future__ import annotations

from pathlib import Path

import bcrypt
import pytest
import yaml
from console_support import MakeConsole, api_sign_in

from bot.console.accounts import AccountError, Accounts, add_account
from bot.console.passwords import COMMON_PASSWORDS_FILE, common_passwords, password_problem


def test_the_shipped_list_holds_thousands_of_common_passwords() -> None:
    common = common_passwords()
    assert len(common) >= 10_000
    assert {"123456", "password", "qwerty123456", "iloveyou", "passwordpassword"} <= common
    assert all(word == word.lower() for word in common)
    assert COMMON_PASSWORDS_FILE.parent.joinpath("README.md").exists()  # where the list comes from


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("", "at least 12 characters"),
        ("elevenchars", "at least 12 characters"),
        ("Qwerty123456", "list of common passwords"),
        ("PASSWORD1234", "list of common passwords"),
        ("1q2w3e4r5t6y", "list of common passwords"),
        ("river-lantern-okra", None),
        ("twelve chars", None),
    ],
)
def test_policy(password: str, problem: str | None) -> None:
    found = password_problem(password)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_add_account_refuses_what_the_policy_refuses(tmp_path: Path) -> None:
    with pytest.raises(AccountError, match="common passwords"):
        add_account(tmp_path / "agents.yml", "dana", "agent", "LetMeIn12345")
    assert not (tmp_path / "agents.yml").exists()


def test_hashes_written_before_the_pre_hash_still_verify(tmp_path: Path) -> None:
    """An accounts file from an earlier version: plain bcrypt over (at most) the first 72 bytes."""
    path = tmp_path / "agents.yml"
    old = "an-old-password-" * 6  # 96 characters: bcrypt 4 hashed the first 72 bytes
    plain = bcrypt.hashpw(old.encode()[:72], bcrypt.gensalt(rounds=4)).decode()
    agents = {"agents": {"dana": {"role": "agent", "password": plain, "token_sha256": "0" * 64}}}
    path.write_text(yaml.safe_dump(agents))
    accounts = Accounts(path)
    assert accounts.check_password("dana", old) is not None
    assert accounts.check_password("dana", "an-old-password-") is None
    assert accounts.check_password("dana", "x" * 100_000) is None  # refused, not an error


@pytest.mark.parametrize("length", [73, 1_000, 200_000])
async def test_very_long_passwords_sign_in_or_fail_cleanly(make_console: MakeConsole, length: int) -> None:
    console = await make_console()
    assert (await api_sign_in(console, "dana", "p" * length)).status == 401
    page = await console.get("/login")
    token = page.cookies["civic_console_login"].value
    form = {"name": "dana", "password": "p" * length, "csrf_token": token}
    refused = await console.post("/login", data=form)
    assert refused.status == 401
    assert "Wrong name or password." in await refused.text()

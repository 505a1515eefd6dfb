"""Console passwords: the policy (ASVS 2.1) and the hash.

A password needs at least 12 characters and must not be in the shipped list of common passwords
(`data/security/common-passwords.txt`, compared case-insensitively). Any length works: bcrypt
reads only 72 bytes (bcrypt 5 refuses more), so new hashes are bcrypt over the base64 SHA-256 of
the password, marked with a ``sha256$`` prefix. Hashes written before that (plain bcrypt) still
verify, the way bcrypt 4 made them: over the first 72 bytes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from pathlib import Path

import bcrypt

MIN_LENGTH = 12
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parents[2] / "data/security/common-passwords.txt"
PREHASHED = "sha256$"
BCRYPT_ROUNDS = 12
_BCRYPT_MAX_BYTES = 72


@functools.cache
def common_passwords(path: Path = COMMON_PASSWORDS_FILE) -> frozenset[str]:
    """The list, lower-cased; read once per process."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip())


def password_problem(password: str, common_file: Path = COMMON_PASSWORDS_FILE) -> str | None:
    """Why `password` may not be used (a sentence for the operator), or None when it may."""
    if len(password) < MIN_LENGTH:
        return f"the password must have at least {MIN_LENGTH} characters"
    if password.strip().lower() in common_passwords(common_file):
        return "that password is on the list of common passwords; choose another"
    return None


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8", "surrogatepass")).digest())


def hash_password(password: str) -> str:
    """A new hash (slow on purpose: ~0.2 s)."""
    return PREHASHED + bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds=BCRYPT_ROUNDS)).decode()


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored` (a pre-hashed or a plain bcrypt hash); never raises."""
    try:
        if stored.startswith(PREHASHED):
            return bcrypt.checkpw(_prehash(password), stored[len(PREHASHED) :].encode())
        plain = password.encode("utf-8", "surrogatepass")[:_BCRYPT_MAX_BYTES]
        return bcrypt.checkpw(plain, stored.encode())
    except ValueError:  # a malformed stored hash, or a NUL byte bcrypt refuses
        return False

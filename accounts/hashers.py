"""Password hashes of users imported from the old FastAPI backend.

The old backend stored ``bcrypt($2b$)`` over ``sha256(password).hexdigest()`` and, for older
rows, bcrypt over the plain password; it verified with the pre-hash first and fell back to the
plain password. The import stores its hash unchanged as ``legacy_bcrypt$<bcrypt hash>``. This
hasher checks it the same two ways; being listed after the primary hasher, Django's
``check_password`` re-hashes the password with the primary one at the first good login.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import bcrypt
from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.translation import gettext_noop as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

PREFIX = "legacy_bcrypt$"
_BCRYPT_IDENTS = ("$2a$", "$2b$", "$2y$")


def legacy_encoded(old_hash: str) -> str | None:
    """The Django form of an old ``password_hash``; None when it is not a bcrypt hash."""
    old_hash = old_hash.strip()
    if old_hash.startswith(_BCRYPT_IDENTS) and len(old_hash) == 60:
        return PREFIX + old_hash
    return None


def _check(candidate: bytes, stored: bytes) -> bool:
    try:
        return bcrypt.checkpw(candidate[:72], stored)
    except ValueError:  # a malformed stored hash
        return False


class LegacyBcryptPasswordHasher(BasePasswordHasher):
    """bcrypt over the SHA-256 hex digest, or over the plain password (old rows)."""

    algorithm = "legacy_bcrypt"

    def salt(self) -> str:  # never used to make new hashes (see encode)
        return ""

    def encode(self, password: str, salt: str) -> str:
        # Only the import writes this format; new passwords go through the primary hasher.
        # Kept working (bcrypt over the SHA-256 hex, like the old backend) for completeness.
        digest = hashlib.sha256(password.encode()).hexdigest().encode()
        return PREFIX + bcrypt.hashpw(digest, bcrypt.gensalt(rounds=12)).decode()

    def verify(self, password: str, encoded: str) -> bool:
        algorithm, _, stored = encoded.partition("$")
        if algorithm != self.algorithm or not stored:
            return False
        stored_bytes = stored.encode()
        prehashed = hashlib.sha256(password.encode()).hexdigest().encode()
        return _check(prehashed, stored_bytes) or _check(password.encode(), stored_bytes)

    def decode(self, encoded: str) -> dict[str, Any]:
        _, _, stored = encoded.partition("$")
        return {
            "algorithm": self.algorithm,
            "hash": stored[29:],
            "salt": stored[7:29],
            "work_factor": int(stored[4:6]) if stored[4:6].isdigit() else 0,
        }

    def safe_summary(self, encoded: str) -> dict[str | _StrPromise, Any]:
        decoded = self.decode(encoded)
        return {
            _("algorithm"): decoded["algorithm"],
            _("work factor"): decoded["work_factor"],
            _("salt"): mask_hash(decoded["salt"]),
            _("checksum"): mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        return True  # always moved to the primary hasher at the first good login

    def harden_runtime(self, password: str, encoded: str) -> None:
        return

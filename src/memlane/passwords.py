"""Password hashes with scrypt from the standard library: "scrypt$n$r$p$salt$hash" (hex)."""
from __future__ import annotations

import functools
import hashlib
import hmac
import os

N, R, P, LENGTH = 2**14, 8, 1, 32


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=LENGTH)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


@functools.cache
def _nobody() -> str:
    """A hash to check against when there is none (made once, when first needed)."""
    return hash_password(os.urandom(16).hex())


def check_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches; as slow when there is no user or no password, so the
    time taken does not tell which user names exist."""
    if not stored:
        check_password(password, _nobody())
        return False
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                             p=int(p), dklen=len(digest) // 2)
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)

"""JSON Web Tokens (HS256) for short-lived access and single-use refresh, with the standard
library only. A token is three base64url parts: header, claims, signature."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

from .errors import Unauthorized

HEADER = {"alg": "HS256", "typ": "JWT"}


def sign(secret: str, subject: str, kind: str, ttl_s: int, now: float | None = None) -> tuple[
        str, dict]:
    """A token for ``subject`` of ``kind`` ("access" or "refresh"), and its claims."""
    issued = round(now if now is not None else time.time(), 3)  # ms: revocation compares it
    claims = {"sub": subject, "typ": kind, "iat": issued, "exp": int(issued) + ttl_s,
              "jti": uuid.uuid4().hex}
    body = f"{_encode(HEADER)}.{_encode(claims)}"
    return f"{body}.{_b64(_mac(secret, body))}", claims


def verify(secret: str, token: str, kind: str, now: float | None = None) -> dict:
    """The claims of a well-signed, unexpired token of ``kind``; Unauthorized otherwise."""
    try:
        header, claims, signature = token.split(".")
        if not hmac.compare_digest(_unb64(signature), _mac(secret, f"{header}.{claims}")):
            raise ValueError("bad signature")
        if json.loads(_unb64(header)).get("alg") != "HS256":
            raise ValueError("bad algorithm")
        body = json.loads(_unb64(claims))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise Unauthorized("invalid token") from None
    if body.get("typ") != kind:
        raise Unauthorized(f"not an {kind} token" if kind == "access" else f"not a {kind} token")
    if not isinstance(body.get("exp"), int) or body["exp"] <= (now or time.time()):
        raise Unauthorized("the token has expired; get a new one from /api/auth/token")
    return body


def looks_like_token(secret: str) -> bool:
    return secret.count(".") == 2 and secret.startswith("eyJ")


def _mac(secret: str, body: str) -> bytes:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()


def _encode(data: dict) -> str:
    return _b64(json.dumps(data, separators=(",", ":")).encode())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

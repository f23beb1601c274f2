"""Users, API keys, passwords and tokens. Keys are shown once; only their SHA-256 hash is
stored. Every door asks `Accounts.caller` who is calling."""
from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import secrets
import time

from . import tokens
from .config import LOCAL_USER, Settings
from .domain import ApiKey, User
from .errors import BadRequest, Conflict, NotFound, RateLimited, Unauthorized
from .lockout import Lockout
from .passwords import check_password, hash_password
from .shared import state_for
from .signing import signing_secret
from .store.base import Store

log = logging.getLogger(__name__)
# where the shared state keeps the signing secret on PostgreSQL (a key name: the secret
# itself is random per deployment)
SIGNING_STATE = "signing-secret"
SIGNING_STATE_TTL = 100 * 365 * 86400.0
KEY_PREFIX = "ml_"
LOCAL_ADMIN = User(id=LOCAL_USER, name=LOCAL_USER, is_admin=True)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Accounts:
    def __init__(self, store: Store, settings: Settings):
        self.store, self.settings = store, settings
        self._secret: str | None = None
        self.lockout = Lockout(settings.login_max_failures,
                               settings.login_max_failures_per_address, settings.login_lockout_s,
                               state=state_for(store, 10_000))

    @property
    def secret(self) -> str:
        """What tokens are signed with (made in the data directory on first use)."""
        return self._secret or self.load_secret()

    def load_secret(self) -> str:
        self._secret = signing_secret(self.settings)
        return self._secret

    async def prepare_secret(self) -> None:
        """At start: a data directory that cannot keep the secret fails early. Replicas on
        a shared store sign with one secret kept in the store (made by the first one),
        unless MEMLANE_JWT_SECRET names one, so a token from any replica works on all."""
        if not self.store.shared or self.settings.jwt_secret:
            self.load_secret()
            return
        fresh = secrets.token_urlsafe(48)
        self._secret = await self.store.update_state(
            SIGNING_STATE, lambda kept: (kept or fresh, kept or fresh), ttl_s=SIGNING_STATE_TTL)

    async def rotate_shared_secret(self) -> None:
        """A new secret in the shared store; replicas sign with it from their next start."""
        fresh = secrets.token_urlsafe(48)
        await self.store.update_state(SIGNING_STATE, lambda _: (fresh, None),
                                      ttl_s=SIGNING_STATE_TTL)

    async def ensure_local_user(self) -> User:
        """The local admin, made on first start; replicas starting together on an empty
        database race to make it, and the losers take the winner's."""
        user = await self.store.get_user(LOCAL_USER)
        if user is not None:
            return user
        try:
            return await self.store.create_user(LOCAL_USER, is_admin=True, user_id=LOCAL_USER)
        except Conflict:
            return await self.store.get_user(LOCAL_USER)

    # who is calling ------------------------------------------------------------------------
    async def caller(self, secret: str | None) -> User:
        """The local admin when auth is off; otherwise the owner of the key or token."""
        if not self.settings.auth_enabled:
            return LOCAL_ADMIN
        if not secret:
            raise Unauthorized("an API key is required: send 'Authorization: Bearer <key>'")
        return await self.authenticate(secret)

    async def authenticate(self, secret: str) -> User:
        """The user of an API key or of an access token; 401 if disabled or revoked."""
        if tokens.looks_like_token(secret):
            claims = tokens.verify(self.secret, secret, "access")
            return _usable(await self.store.get_user(claims["sub"]), claims)
        found = await self.store.user_for_key_hash(hash_key(secret))
        if found is None:
            raise Unauthorized("invalid or revoked API key")
        return _usable(found[0])

    async def acting_for(self, user: User, requested: str | None) -> str:
        """Whose memory a request may use: another user's (named by id or name) only for an
        admin and an existing user; otherwise the caller's own (a client's label for its
        end user is not an identity)."""
        if not requested or not user.is_admin:
            return user.id
        try:
            return (await self.user(requested)).id
        except NotFound:
            return user.id

    # tokens --------------------------------------------------------------------------------
    async def issue_tokens(self, user: User) -> dict:
        """A short-lived access token and a single-use refresh token."""
        s = self.settings
        access, _ = tokens.sign(self.secret, user.id, "access", s.access_token_ttl_s)
        refresh, claims = tokens.sign(self.secret, user.id, "refresh", s.refresh_token_ttl_s)
        await self.store.add_refresh_token(claims["jti"], user.id, claims["exp"])
        return {"access_token": access, "refresh_token": refresh, "token_type": "bearer",
                "expires_in": s.access_token_ttl_s}

    async def tokens_for_key(self, key: str) -> dict:
        if tokens.looks_like_token(key):  # a token does not buy more tokens
            raise Unauthorized("send an API key or a refresh token")
        return await self.issue_tokens(await self.authenticate(key))

    async def tokens_for_password(self, name: str, password: str, address: str = "") -> dict:
        """Tokens for a right password; wrong ones lock the name or ``address`` (the
        client's) out for a while, and meanwhile no password is even checked (429)."""
        if wait := await self.lockout.wait(name, address):
            raise RateLimited(f"too many failed sign-ins; try again in {math.ceil(wait)} s",
                              retry_after=wait)
        user = await self.store.get_user_by_name(name)
        stored = await self.store.password_hash(user.id) if user else None
        if not await asyncio.to_thread(check_password, password, stored):
            if await self.lockout.failed(name, address):
                log.warning("sign-in locked out for %d s after failed passwords: user %s, "
                            "address %s", self.settings.login_lockout_s,
                            user.id if user else "(no such user)", address or "?")
            raise Unauthorized("wrong user name or password")
        await self.lockout.succeeded(name)
        return await self.issue_tokens(_usable(user))

    async def refresh(self, token: str) -> dict:
        """New tokens for a refresh token, which is spent by this (it works once)."""
        claims = tokens.verify(self.secret, token, "refresh")
        user_id = await self.store.use_refresh_token(claims["jti"], time.time())
        if user_id is None:
            raise Unauthorized("this refresh token was already used or revoked")
        return await self.issue_tokens(_usable(await self.store.get_user(user_id), claims))

    async def revoke_tokens(self, user_id: str) -> None:
        """Every access and refresh token issued to the user so far stops working."""
        await self._update(user_id, tokens_after=time.time())

    # administration ------------------------------------------------------------------------
    async def user(self, name_or_id: str) -> User:
        user = (await self.store.get_user_by_name(name_or_id)
                or await self.store.get_user(name_or_id))
        if user is None:
            raise NotFound(f"user {name_or_id} not found")
        return user

    async def list_users(self) -> list[User]:
        return await self.store.list_users()

    async def create_user(self, name: str, *, is_admin: bool = False,
                          password: str | None = None) -> User:
        if password is not None:
            _strong(password)  # before the user exists
        user = await self.store.create_user(name, is_admin=is_admin)
        return await self.change(user.id, password=password) if password else user

    async def change(self, name_or_id: str, *, disabled: bool | None = None,
                     is_admin: bool | None = None, password: str | None = None,
                     by: User | None = None) -> User:
        """Change a user in one write. Disabling also revokes their tokens (enabling again
        does not bring them back). ``by``: the admin asking, who may not lock themselves
        out (the CLI, acting on the data directory, passes none)."""
        user = await self.user(name_or_id)
        _not_locking_out(by, user, bool(disabled) or is_admin is False)
        changes: dict = {"is_admin": is_admin, "disabled": disabled}
        if disabled:
            changes["tokens_after"] = time.time()
        if password is not None:
            changes["password_hash"] = await asyncio.to_thread(hash_password,
                                                               _strong(password))
        return await self._update(user.id, **{k: v for k, v in changes.items()
                                              if v is not None})

    async def delete_user(self, name_or_id: str, *, by: User | None = None) -> None:
        user = await self.user(name_or_id)
        _not_locking_out(by, user, True)
        await self.store.delete_user(user.id)

    async def list_keys(self, user: str | None = None) -> list[ApiKey]:
        return await self.store.list_api_keys((await self.user(user)).id if user else None)

    async def revoke_key(self, key_id: str) -> None:
        if not await self.store.revoke_api_key(key_id):
            raise NotFound(f"no key {key_id}")

    async def create_key(self, user_id: str, name: str = "default") -> tuple[ApiKey, str]:
        """The stored key record and the secret, which is never shown again."""
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        record = await self.store.add_api_key(user_id, name=name, prefix=secret[:10],
                                              key_hash=hash_key(secret))
        return record, secret

    async def _update(self, user_id: str, **changes) -> User:
        user = await self.store.update_user(user_id, **changes)
        if user is None:
            raise NotFound(f"user {user_id} not found")
        return user


def _strong(password: str) -> str:
    if len(password) < 8:
        raise BadRequest("a password needs at least 8 characters", param="password")
    return password


def _not_locking_out(by: User | None, target: User, locking: bool) -> None:
    if by is not None and locking and by.id == target.id:
        raise BadRequest("an admin cannot disable, demote or delete themselves")


def _usable(user: User | None, claims: dict | None = None) -> User:
    """The user, unless gone, disabled, or (for a token) revoked since it was issued."""
    if user is None:
        raise Unauthorized("this user no longer exists")
    if user.disabled:
        raise Unauthorized("this user is disabled")
    if claims is not None and claims.get("iat", 0) < user.tokens_after:
        raise Unauthorized("this token was revoked; get a new one from /api/auth/token")
    return user

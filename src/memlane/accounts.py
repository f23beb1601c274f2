"""Users and API keys. Keys are shown once; only their SHA-256 hash is stored."""
from __future__ import annotations

import hashlib
import secrets
import time

from . import tokens
from .config import LOCAL_USER, Settings
from .domain import ApiKey, User
from .errors import NotFound, Unauthorized
from .store.base import Store

KEY_PREFIX = "ml_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Accounts:
    def __init__(self, store: Store, settings: Settings):
        self.store, self.settings = store, settings

    async def ensure_local_user(self) -> User:
        user = await self.store.get_user(LOCAL_USER)
        return user or await self.store.create_user(LOCAL_USER, is_admin=True,
                                                    user_id=LOCAL_USER)

    async def create_user(self, name: str, *, is_admin: bool = False) -> User:
        return await self.store.create_user(name, is_admin=is_admin)

    async def user(self, name_or_id: str) -> User:
        user = (await self.store.get_user_by_name(name_or_id)
                or await self.store.get_user(name_or_id))
        if user is None:
            raise NotFound(f"user {name_or_id} not found")
        return user

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

    async def list_users(self) -> list[User]:
        return await self.store.list_users()

    async def delete_user(self, name_or_id: str) -> None:
        await self.store.delete_user((await self.user(name_or_id)).id)

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

    async def authenticate(self, secret: str) -> User:
        """The user of an API key or of an access token."""
        if tokens.looks_like_token(secret):
            claims = tokens.verify(self.settings.jwt_secret, secret, "access")
            user = await self.store.get_user(claims["sub"])
            if user is None:
                raise Unauthorized("the token's user no longer exists")
            return user
        found = await self.store.user_for_key_hash(hash_key(secret))
        if found is None:
            raise Unauthorized("invalid or revoked API key")
        return found[0]

    async def issue_tokens(self, user: User) -> dict:
        """A short-lived access token and a single-use refresh token."""
        s = self.settings
        access, _ = tokens.sign(s.jwt_secret, user.id, "access", s.access_token_ttl_s)
        refresh, claims = tokens.sign(s.jwt_secret, user.id, "refresh", s.refresh_token_ttl_s)
        await self.store.add_refresh_token(claims["jti"], user.id, claims["exp"])
        return {"access_token": access, "refresh_token": refresh, "token_type": "bearer",
                "expires_in": s.access_token_ttl_s}

    async def tokens_for_key(self, key: str) -> dict:
        if tokens.looks_like_token(key):  # a token does not buy more tokens
            raise Unauthorized("send an API key or a refresh token")
        return await self.issue_tokens(await self.authenticate(key))

    async def refresh(self, token: str) -> dict:
        """New tokens for a refresh token, which is spent by this (it works once)."""
        claims = tokens.verify(self.settings.jwt_secret, token, "refresh")
        user_id = await self.store.use_refresh_token(claims["jti"], time.time())
        user = await self.store.get_user(user_id) if user_id else None
        if user is None:
            raise Unauthorized("this refresh token was already used or revoked")
        return await self.issue_tokens(user)

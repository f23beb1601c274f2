from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ...domain import User
from ..deps import CurrentUser, EngineDep

router = APIRouter(tags=["auth"])


class TokenRequest(BaseModel):
    """Exactly one credential: an API key, a refresh token, or a user name and password."""
    model_config = ConfigDict(extra="forbid")
    api_key: str | None = Field(None, max_length=2000)
    refresh_token: str | None = Field(None, max_length=2000)
    username: str | None = Field(None, max_length=100)
    password: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _one_credential(self) -> TokenRequest:
        if (self.username is None) != (self.password is None):
            raise ValueError("send username and password together")
        given = [self.api_key, self.refresh_token, self.username]
        if sum(value is not None for value in given) != 1:
            raise ValueError("send exactly one of api_key, refresh_token, or "
                             "username and password")
        return self


class Tokens(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"]  # OAuth 2.0's token type, set by Accounts
    expires_in: int


class UserOut(BaseModel):
    id: str
    name: str
    is_admin: bool
    disabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, name=user.name, is_admin=user.is_admin,
                   disabled=user.disabled, created_at=user.created_at)


@router.post("/auth/token", summary="Exchange an API key, a password or a refresh token for "
                                    "tokens",
             description="A short-lived access token (send it as `Authorization: Bearer`) "
                         "and a single-use refresh token. 401 for a bad key or password, a "
                         "disabled user, or a refresh token that is expired, tampered with, "
                         "revoked or already used; 429 (with `Retry-After`) while a user "
                         "name or client address is locked out after failed passwords.")
async def token(body: TokenRequest, engine: EngineDep, request: Request) -> Tokens:
    accounts = engine.accounts
    if body.refresh_token is not None:
        return Tokens(**await accounts.refresh(body.refresh_token))
    if body.username is not None:
        address = request.client.host if request.client else ""
        return Tokens(**await accounts.tokens_for_password(body.username, body.password,
                                                           address))
    return Tokens(**await accounts.tokens_for_key(body.api_key))


@router.post("/auth/revoke", status_code=204, summary="Revoke all of your tokens",
             description="Every access and refresh token issued to you so far stops working "
                         "(API keys are not affected; an admin revokes those).")
async def revoke(user: CurrentUser, engine: EngineDep) -> Response:
    await engine.accounts.revoke_tokens(user.id)
    return Response(status_code=204)


@router.get("/auth/me", summary="Who the credentials belong to")
async def me(user: CurrentUser) -> UserOut:
    return UserOut.of(user)

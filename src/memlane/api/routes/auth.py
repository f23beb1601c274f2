from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..deps import EngineDep

router = APIRouter(tags=["auth"])


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    api_key: str | None = Field(None, max_length=2000)
    refresh_token: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _one_credential(self) -> TokenRequest:
        if (self.api_key is None) == (self.refresh_token is None):
            raise ValueError("send exactly one of api_key or refresh_token")
        return self


class Tokens(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post("/auth/token", summary="Exchange an API key or a refresh token for tokens",
             description="A short-lived access token (send it as `Authorization: Bearer`) "
                         "and a single-use refresh token. 401 for a bad key or a refresh "
                         "token that is expired, tampered with or already used.")
async def token(body: TokenRequest, engine: EngineDep) -> Tokens:
    if body.refresh_token is not None:
        return Tokens(**await engine.accounts.refresh(body.refresh_token))
    return Tokens(**await engine.accounts.tokens_for_key(body.api_key))

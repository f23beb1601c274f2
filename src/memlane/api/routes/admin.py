"""Admin endpoints: users, their API keys and tokens. A non-admin caller gets 403."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from ...domain import ApiKey
from ..deps import AdminUser, EngineDep
from .auth import UserOut

router = APIRouter(prefix="/admin", tags=["admin"])
Name = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Name
    is_admin: bool = False
    password: str | None = Field(None, min_length=8, max_length=200)
    create_key: bool = Field(True, description="Also create an API key (shown once).")


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    disabled: bool | None = None
    is_admin: bool | None = None
    password: str | None = Field(None, min_length=8, max_length=200)


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("default", min_length=1, max_length=100)


class KeyOut(BaseModel):
    id: str
    user_id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool

    @classmethod
    def of(cls, key: ApiKey) -> KeyOut:
        return cls(id=key.id, user_id=key.user_id, name=key.name, prefix=key.prefix,
                   created_at=key.created_at, last_used_at=key.last_used_at,
                   revoked=key.revoked)


class NewKey(BaseModel):
    key: KeyOut
    api_key: str = Field(description="The secret; it is shown only this once.")


class NewUser(BaseModel):
    user: UserOut
    key: NewKey | None


@router.get("/users", summary="List users")
async def list_users(_: AdminUser, engine: EngineDep) -> list[UserOut]:
    return [UserOut.of(u) for u in await engine.accounts.list_users()]


@router.post("/users", status_code=201, summary="Create a user (and an API key)")
async def create_user(body: UserCreate, _: AdminUser, engine: EngineDep) -> NewUser:
    accounts = engine.accounts
    user = await accounts.create_user(body.name, is_admin=body.is_admin,
                                      password=body.password)
    key = await _new_key(engine, user.id, "default") if body.create_key else None
    return NewUser(user=UserOut.of(user), key=key)


@router.get("/users/{user}", summary="One user, by id or name")
async def get_user(user: str, _: AdminUser, engine: EngineDep) -> UserOut:
    return UserOut.of(await engine.accounts.user(user))


@router.patch("/users/{user}", summary="Disable or enable a user, set admin, set password",
              description="A disabled user's keys and tokens get 401 until enabled again; "
                          "tokens issued before disabling stay revoked.")
async def patch_user(user: str, body: UserPatch, admin: AdminUser,
                     engine: EngineDep) -> UserOut:
    return UserOut.of(await engine.accounts.change(
        user, disabled=body.disabled, is_admin=body.is_admin, password=body.password,
        by=admin))


@router.delete("/users/{user}", status_code=204,
               summary="Delete a user, their keys and everything they own")
async def delete_user(user: str, admin: AdminUser, engine: EngineDep) -> Response:
    await engine.accounts.delete_user(user, by=admin)
    return Response(status_code=204)


@router.post("/users/{user}/keys", status_code=201, summary="Create an API key for a user")
async def create_key(user: str, body: KeyCreate, _: AdminUser, engine: EngineDep) -> NewKey:
    return await _new_key(engine, (await engine.accounts.user(user)).id, body.name)


@router.post("/users/{user}/revoke-tokens", status_code=204,
             summary="Revoke every access and refresh token issued to a user so far")
async def revoke_tokens(user: str, _: AdminUser, engine: EngineDep) -> Response:
    await engine.accounts.revoke_tokens((await engine.accounts.user(user)).id)
    return Response(status_code=204)


@router.get("/keys", summary="List API keys (all, or one user's)")
async def list_keys(_: AdminUser, engine: EngineDep,
                    user: str | None = Query(None, max_length=100)) -> list[KeyOut]:
    return [KeyOut.of(k) for k in await engine.accounts.list_keys(user)]


@router.delete("/keys/{key_id}", status_code=204, summary="Revoke an API key")
async def revoke_key(key_id: str, _: AdminUser, engine: EngineDep) -> Response:
    await engine.accounts.revoke_key(key_id)
    return Response(status_code=204)


async def _new_key(engine, user_id: str, name: str) -> NewKey:
    record, secret = await engine.accounts.create_key(user_id, name)
    return NewKey(key=KeyOut.of(record), api_key=secret)

"""Dependencies as Annotated aliases. Identity comes from here only."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..config import Settings
from ..domain import User
from ..engine import Engine
from ..errors import Forbidden

_bearer = HTTPBearer(auto_error=False, description="An API key from `memlane keys create`.")


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_settings(request: Request) -> Settings:
    return request.app.state.engine.settings


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def current_user(engine: EngineDep,
                       credentials: Annotated[HTTPAuthorizationCredentials | None,
                                              Depends(_bearer)]) -> User:
    secret = credentials.credentials if credentials else None
    return await engine.accounts.caller(secret)


CurrentUser = Annotated[User, Depends(current_user)]


async def admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden("this needs an admin's key")
    return user


AdminUser = Annotated[User, Depends(admin_user)]

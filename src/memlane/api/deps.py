"""Dependencies as Annotated aliases. Identity comes from here only."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..config import LOCAL_USER, Settings
from ..domain import User
from ..engine import Engine
from ..errors import Unauthorized

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
    if not engine.settings.auth_enabled:
        return User(id=LOCAL_USER, name=LOCAL_USER, is_admin=True)
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("an API key is required: send 'Authorization: Bearer <key>'")
    return await engine.accounts.authenticate(credentials.credentials)


CurrentUser = Annotated[User, Depends(current_user)]

"""MCP over streamable HTTP, mounted on the app at `/mcp`. Every request is authenticated
exactly as REST is (`Accounts.caller`: a bearer API key or access token; 401 otherwise),
and the tools act for that caller. Stateless: no MCP session outlives its request, so
identity never rides on a session id. The app's lifespan runs the session manager."""
from __future__ import annotations

import json

from mcp.server.mcpserver import Context
from mcp.server.transport_security import TransportSecuritySettings

from ..config import Settings, is_loopback
from ..domain import User
from ..engine import Engine
from ..errors import MemlaneError, Unauthorized
from .tools import build

PATH = "/mcp"
USER = "memlane.user"  # the ASGI scope key the caller travels under


async def request_user(ctx: Context) -> User:
    request = ctx.request_context.request
    user = getattr(request, "scope", {}).get(USER)
    if user is None:
        raise Unauthorized("an API key is required: send 'Authorization: Bearer <key>'")
    return user


class McpDoor:
    """An ASGI app: authenticate, then hand the request to the MCP session manager."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.server = build(engine, request_user)
        self.server.streamable_http_app(stateless_http=True, json_response=True,
                                        transport_security=_security(engine.settings))
        self.manager = self.server.session_manager

    def run(self):
        """The session manager's lifetime (an async context manager for the lifespan)."""
        return self.manager.run()

    async def __call__(self, scope, receive, send) -> None:
        try:
            user = await self.engine.accounts.caller(_bearer(scope))
        except MemlaneError as exc:
            return await _refuse(exc, send)
        await self.manager.handle_request({**scope, USER: user}, receive, send)


def _bearer(scope) -> str | None:
    value = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
    scheme, _, secret = value.partition(" ")
    return (secret.strip() or None) if scheme.lower() == "bearer" else None


def _security(settings: Settings) -> TransportSecuritySettings:
    """On a loopback address, refuse other Host and Origin headers (DNS rebinding: a web
    page must not reach a local memory through the browser)."""
    if not is_loopback(settings.host):
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost",
                       *settings.mcp_allowed_hosts],
        allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*",
                         *settings.cors_origins])


async def _refuse(exc: MemlaneError, send) -> None:
    from ..api.errors import error_body
    body = json.dumps(error_body(exc.message, exc.code, exc.param)).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    if exc.status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

"""MCP over stdio, for hosts that launch their servers (Claude Desktop, Cursor, ...).
stdout is the wire: every log line goes to stderr.

Two ways to reach a memory:
- local (default): the engine runs in this process on the data directory, as the local
  user (or, in multi-user mode, as the owner of ``--key``);
- ``--url``: a bridge to a running server's `/mcp`, authenticated by ``--key``; the
  server's models and store are shared and nothing heavy loads here."""
from __future__ import annotations

from contextlib import asynccontextmanager

from mcp.server import Server
from mcp.server.mcpserver import Context
from mcp.server.stdio import stdio_server

from ..config import Settings
from ..domain import User
from ..engine import Engine
from .tools import INSTRUCTIONS, build


async def serve_local(settings: Settings, key: str | None) -> None:
    engine = Engine.from_settings(settings)
    await engine.start()
    try:
        user = await engine.accounts.caller(key)

        async def identify(ctx: Context) -> User:
            return user
        server = build(engine, identify)
        await server.run_stdio_async()
    finally:
        await engine.stop()


async def serve_bridge(url: str, key: str | None) -> None:
    """Relay tools/list and tools/call to the server's `/mcp`, as they are."""
    async with _remote(url, key) as remote:
        async def list_tools(ctx, params):
            return await remote.list_tools()

        async def call_tool(ctx, params):
            return await remote.call_tool(params.name, params.arguments or {})
        bridge = Server("memlane", instructions=INSTRUCTIONS,
                        on_list_tools=list_tools, on_call_tool=call_tool)
        async with stdio_server() as (read, write):
            await bridge.run(read, write, bridge.create_initialization_options())


@asynccontextmanager
async def _remote(url: str, key: str | None):
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    endpoint = url.rstrip("/") + "/mcp"
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as http:
        async with Client(streamable_http_client(endpoint, http_client=http),
                          cache=None) as client:
            yield client

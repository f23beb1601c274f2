"""A real memlane server in the benchmark's own event loop (uvicorn on a free port)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def serving(settings, engine) -> AsyncIterator[str]:
    """Serve ``engine`` with ``settings``; yields the base URL (http://127.0.0.1:port).
    Blocking HTTP calls to it must run in a thread: the server shares this loop."""
    import uvicorn

    from memlane.api.app import create_app
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine), port=0,
                                           log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await task

"""Helpers shared by tests."""
from __future__ import annotations

from contextlib import contextmanager


def add_user(client, name: str) -> dict:
    """Create a user and a key inside the app's own event loop; returns auth headers."""
    accounts = client.app.state.engine.accounts

    async def work():
        user = await accounts.create_user(name)
        return (await accounts.create_key(user.id))[1]
    key = client.portal.call(work)
    return {"Authorization": f"Bearer {key}"}


def sse_events(text: str) -> list[tuple[str, dict]]:
    """(event, data) pairs of a Server-Sent Events body."""
    import json
    out, name = [], "message"
    for line in text.splitlines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            out.append((name, json.loads(line[5:])))
            name = "message"
    return out


def run_jobs(client) -> None:
    """Wait until the app's background jobs are done."""
    client.portal.call(client.app.state.engine.jobs.wait_idle)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def uvicorn_thread(app, port: int, timeout: float = 60.0):
    """A real uvicorn server for ``app`` in a thread; yields its base URL."""
    import threading
    import time

    import uvicorn
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + timeout
    while not server.started:
        assert time.time() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


async def seed_people(settings, people: dict[str, bool],
                      passwords: dict[str, str] | None = None) -> dict[str, str]:
    """Create users (name -> is_admin; with their ``passwords``) with one API key each in
    the settings' store, before a server starts; returns their keys."""
    from memlane.accounts import Accounts
    from memlane.models import create
    store = create("store", settings.store, settings)
    await store.open()
    try:
        accounts, keys = Accounts(store, settings), {}
        for name, is_admin in people.items():
            user = await accounts.create_user(name, is_admin=is_admin,
                                              password=(passwords or {}).get(name))
            keys[name] = (await accounts.create_key(user.id))[1]
        return keys
    finally:
        await store.close()


HOSTILE = {"emoji": "emojirun " + "\U0001F600" * 12000, "words": "w " * 24500,
           "one word": "x" * 48000}  # 48 KB texts that once took a parser 25-38 s


def ingest_while_searching(url: str, client, text: str) -> tuple[float, list[float]]:
    """Store ``text`` on a thread while searching again and again; the ingest's seconds
    and each search's seconds."""
    import threading
    import time

    import httpx
    done: dict = {}

    def ingest():
        start = time.perf_counter()
        r = httpx.post(url + "/api/memories", json={"text": text}, timeout=120)
        done["took"], done["status"] = time.perf_counter() - start, r.status_code
    thread = threading.Thread(target=ingest)
    thread.start()
    time.sleep(0.2)
    waits = []
    while thread.is_alive():
        start = time.perf_counter()
        assert client.post("/api/search", json={"query": "tea with Alice"}).status_code == 200
        waits.append(time.perf_counter() - start)
    thread.join()
    assert done["status"] == 201
    return done["took"], waits

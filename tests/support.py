"""Helpers shared by tests."""
from __future__ import annotations


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

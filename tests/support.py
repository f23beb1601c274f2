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

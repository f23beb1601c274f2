"""Admin commands: users and API keys, acting directly on the data directory's store."""
from __future__ import annotations

import asyncio
import json

import click

from ..accounts import Accounts
from ..config import load_settings
from ..errors import MemlaneError
from ..models import create

data_dir_option = click.option("--data-dir", envvar="MEMLANE_DATA_DIR",
                               type=click.Path(file_okay=False))


def _run(data_dir, work):
    async def go():
        store = create("store", (s := load_settings(data_dir=data_dir)).store, s)
        await store.open()
        try:
            return await work(Accounts(store, s))
        finally:
            await store.close()
    try:
        return asyncio.run(go())
    except MemlaneError as exc:
        raise click.ClickException(exc.message) from None


@click.group()
def users():
    """Manage users (multi-user mode)."""


@users.command("list")
@data_dir_option
def users_list(data_dir):
    for u in _run(data_dir, lambda a: a.list_users()):
        click.echo(f"{u.id}  {u.name}{'  (admin)' if u.is_admin else ''}")


@users.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True)
@click.option("--key/--no-key", default=True, show_default=True, help="Also create a key.")
@data_dir_option
def users_add(name, admin, key, data_dir):
    """Create user NAME and (by default) an API key, shown once."""
    async def work(accounts: Accounts):
        user = await accounts.create_user(name, is_admin=admin)
        secret = (await accounts.create_key(user.id))[1] if key else None
        return user, secret
    user, secret = _run(data_dir, work)
    click.echo(json.dumps({"id": user.id, "name": user.name, "api_key": secret}))
    if secret:
        click.echo("Keep the key: it is shown only once.", err=True)


@users.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True)
@data_dir_option
def users_delete(name, yes, data_dir):
    """Delete user NAME, their keys and every memory they own."""
    if not yes:
        click.confirm(f"Delete user {name} and all their memories?", abort=True)
    _run(data_dir, lambda a: a.delete_user(name))
    click.echo(f"deleted {name}")


@click.group()
def keys():
    """Manage API keys (multi-user mode)."""


@keys.command("create")
@click.argument("user")
@click.option("--name", default="default")
@data_dir_option
def keys_create(user, name, data_dir):
    """Create an API key for USER; the key is printed once."""
    async def work(accounts: Accounts):
        return await accounts.create_key((await accounts.user(user)).id, name)
    record, secret = _run(data_dir, work)
    click.echo(json.dumps({"id": record.id, "user_id": record.user_id, "api_key": secret}))


@keys.command("list")
@click.argument("user", required=False)
@data_dir_option
def keys_list(user, data_dir):
    for k in _run(data_dir, lambda a: a.list_keys(user)):
        state = "revoked" if k.revoked else "active"
        click.echo(f"{k.id}  {k.user_id}  {k.name}  {k.prefix}…  {state}")


@keys.command("revoke")
@click.argument("key_id")
@data_dir_option
def keys_revoke(key_id, data_dir):
    _run(data_dir, lambda a: a.revoke_key(key_id))
    click.echo(f"revoked {key_id}")

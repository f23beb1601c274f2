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
        flags = ("  (admin)" if u.is_admin else "") + ("  (disabled)" if u.disabled else "")
        click.echo(f"{u.id}  {u.name}{flags}")


@users.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True)
@click.option("--key/--no-key", default=True, show_default=True, help="Also create a key.")
@click.option("--password", is_flag=True, help="Prompt for a password (for /api/auth/token).")
@data_dir_option
def users_add(name, admin, key, password, data_dir):
    """Create user NAME and (by default) an API key, shown once."""
    secret_word = _ask_password() if password else None

    async def work(accounts: Accounts):
        user = await accounts.create_user(name, is_admin=admin, password=secret_word)
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


@users.command("disable")
@click.argument("name")
@data_dir_option
def users_disable(name, data_dir):
    """Refuse NAME's keys and tokens (401) until enabled again; their memories stay."""
    _set_disabled(data_dir, name, True)


@users.command("enable")
@click.argument("name")
@data_dir_option
def users_enable(name, data_dir):
    """Accept NAME's keys again (tokens issued before disabling stay revoked)."""
    _set_disabled(data_dir, name, False)


@users.command("password")
@click.argument("name")
@data_dir_option
def users_password(name, data_dir):
    """Set NAME's password (prompted)."""
    secret_word = _ask_password()

    _run(data_dir, lambda a: a.change(name, password=secret_word))
    click.echo(f"password set for {name}")


@users.command("revoke-tokens")
@click.argument("name")
@data_dir_option
def users_revoke_tokens(name, data_dir):
    """Revoke every access and refresh token issued to NAME so far."""
    async def work(accounts: Accounts):
        await accounts.revoke_tokens((await accounts.user(name)).id)
    _run(data_dir, work)
    click.echo(f"revoked the tokens of {name}")


def _set_disabled(data_dir, name: str, disabled: bool) -> None:
    _run(data_dir, lambda a: a.change(name, disabled=disabled))
    click.echo(f"{'disabled' if disabled else 'enabled'} {name}")


def _ask_password() -> str:
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


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


@click.command("rotate-secret")
@data_dir_option
def rotate_secret(data_dir):
    """Make a new token signing secret: after a restart every access and refresh token
    issued so far is refused (API keys keep working)."""
    from ..signing import rotate

    async def in_store(accounts: Accounts) -> bool:
        if accounts.store.shared and not accounts.settings.jwt_secret:
            await accounts.rotate_shared_secret()
            return True
        return False
    if load_settings(data_dir=data_dir).store != "sqlite" and _run(data_dir, in_store):
        click.echo("new secret in the database; restart every replica to use it")
        return
    try:
        path = rotate(load_settings(data_dir=data_dir))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"new secret in {path}; restart the server to use it")

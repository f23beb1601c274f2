"""The `memlane` command: `serve`, client commands that talk to a running server, and
local admin commands (`users`, `keys`) that act on the data directory."""
from __future__ import annotations

import click

from .admin import keys, rotate_secret, users
from .client import add, delete, export, get, history, list_, restore, search
from .evaluate import eval_
from .imports import import_
from .mcp import mcp
from .migrate import migrate
from .serve import serve
from .talk import ask, chat
from .voice import transcribe, voice


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="memlane")
def cli() -> None:
    """memlane: a local-first memory server."""


for command in (serve, add, search, ask, chat, voice, transcribe, list_, get, history, restore,
                delete, import_, export, users, keys, rotate_secret, eval_, mcp, migrate):
    cli.add_command(command)


def main() -> None:
    cli(auto_envvar_prefix="MEMLANE")

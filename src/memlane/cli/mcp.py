"""`memlane mcp`: the MCP server over stdio, for agent hosts that launch it."""
from __future__ import annotations

import asyncio

import click
from pydantic import ValidationError

from ..config import load_settings
from ..errors import MemlaneError


@click.command("mcp")
@click.option("--url", envvar="MEMLANE_URL",
              help="Bridge to this running server's /mcp instead of opening the data "
                   "directory in this process.")
@click.option("--key", envvar="MEMLANE_API_KEY", help="API key (multi-user mode).")
@click.option("--data-dir", envvar="MEMLANE_DATA_DIR", type=click.Path(file_okay=False),
              help="The data directory to open (without --url).")
def mcp(url: str | None, key: str | None, data_dir: str | None) -> None:
    """Serve memory tools over MCP on stdin/stdout (logs go to stderr)."""
    from ..logs import configure_logging
    from ..mcp.stdio import serve_bridge, serve_local
    try:
        settings = load_settings(data_dir=data_dir, voice_enabled=False)
    except ValidationError as exc:
        raise click.ClickException(exc.errors()[0]["msg"]) from None
    configure_logging(settings.log_level if not url else "warning",
                      None if url else settings.data_dir / "logs")
    try:
        asyncio.run(serve_bridge(url, key) if url else serve_local(settings, key))
    except MemlaneError as exc:
        raise click.ClickException(exc.message) from None
    except KeyboardInterrupt:
        pass

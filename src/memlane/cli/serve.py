from __future__ import annotations

import click
from pydantic import ValidationError

from ..config import load_settings


@click.command()
@click.option("--host", envvar="MEMLANE_HOST", help="Address to bind [127.0.0.1].")
@click.option("--port", envvar="MEMLANE_PORT", type=int, help="Port [8420].")
@click.option("--data-dir", envvar="MEMLANE_DATA_DIR", type=click.Path(file_okay=False),
              help="Where the database and model files live.")
def serve(host: str | None, port: int | None, data_dir: str | None) -> None:
    """Serve the REST API (and /docs) on the embedded default: SQLite and local models."""
    import uvicorn

    from ..api.app import create_app
    from ..logs import configure_logging
    try:
        settings = load_settings(host=host, port=port, data_dir=data_dir)
    except ValidationError as exc:
        raise click.ClickException(
            exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
    configure_logging(settings.log_level, settings.data_dir / "logs")
    click.echo(f"memlane: data in {settings.data_dir}; serving on "
               f"http://{settings.host}:{settings.port} (the web app at /, API docs at /docs)",
               err=True)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level=settings.log_level, log_config=None, access_log=False,
                proxy_headers=bool(settings.trusted_proxies),
                forwarded_allow_ips=settings.trusted_proxies or None)

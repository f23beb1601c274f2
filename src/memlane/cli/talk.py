"""`memlane ask` and `memlane chat`: answers streamed to the terminal as they are written."""
from __future__ import annotations

import click

from .http import Api, api_from, key_option, url_option


def _stream(api: Api, path: str, body: dict, show_sources: bool) -> dict:
    """Print tokens as they arrive; return the contexts and done events."""
    seen: dict = {}
    for name, data in api.events(path, body):
        if name == "token":
            click.echo(data["text"], nl=False)
        elif name == "contexts":
            seen["contexts"] = data
        elif name == "done":
            seen["done"] = data
        elif name == "error":
            raise click.ClickException(f"{data.get('status')}: {data.get('detail')}")
    click.echo()
    if show_sources:
        _sources(seen)
    return seen


def _sources(seen: dict) -> None:
    done = seen.get("done", {})
    cited = set(done.get("citations", []))
    for c in seen.get("contexts", {}).get("contexts", []):
        if c["memory_id"] in cited:
            click.echo(f"  [{c['ref']}] {c['text']}  ({c['memory_id']})", err=True)
    timings = done.get("timings_ms", {})
    if "first_token" in timings:
        click.echo(f"  first token {timings['first_token']:.0f} ms, "
                   f"total {timings.get('total', 0):.0f} ms", err=True)


@click.command()
@click.argument("question")
@click.option("--limit", type=int, help="At most this many memories.")
@click.option("--max-tokens", type=int)
@click.option("--quiet", "-q", is_flag=True, help="Answer only, no sources.")
@url_option
@key_option
def ask(question, limit, max_tokens, quiet, url, key):
    """Answer QUESTION from your memories, citing them."""
    body = {"question": question, "limit": limit, "max_tokens": max_tokens}
    _stream(api_from(url, key), "/api/ask", {k: v for k, v in body.items() if v}, not quiet)


@click.command()
@click.option("--conversation", "conversation_id", help="Continue this conversation.")
@click.option("--max-tokens", type=int)
@url_option
@key_option
def chat(conversation_id, max_tokens, url, key):
    """Chat with memory. Type a message and Enter; an empty line or Ctrl-D ends it."""
    api = api_from(url, key)
    while True:
        try:
            text = click.prompt("you", default="", show_default=False, prompt_suffix="> ")
        except (EOFError, click.Abort):
            break
        if not text.strip():
            break
        body = {"message": text, "conversation_id": conversation_id, "max_tokens": max_tokens}
        click.echo("memlane> ", nl=False)
        seen = _stream(api, "/api/chat", {k: v for k, v in body.items() if v}, False)
        conversation_id = seen.get("contexts", {}).get("conversation_id", conversation_id)
    if conversation_id:
        click.echo(f"conversation {conversation_id}", err=True)

"""Client commands: they talk to a running server, like the docker or ollama CLIs."""
from __future__ import annotations

import json

import click

from ..domain import MemoryType
from .http import api_from, key_option, url_option

TYPES = click.Choice([t.value for t in MemoryType])


def _json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print raw JSON.")(f)


def _show(memory: dict) -> str:
    when = memory.get("occurred_at") or memory["created_at"]
    return f"{memory['id']}  [{memory['type']}] {when[:19]}  {memory['text']}"


@click.command()
@click.argument("text")
@click.option("--type", "type_", type=TYPES, default="semantic", show_default=True)
@click.option("--metadata", help="JSON object.")
@click.option("--occurred-at", help="When it happened (ISO 8601).")
@click.option("--id", "client_id", help="Idempotency key.")
@url_option
@key_option
@_json_option
def add(text, type_, metadata, occurred_at, client_id, url, key, as_json):
    """Remember TEXT."""
    body = {"text": text, "type": type_, "client_id": client_id, "occurred_at": occurred_at,
            "metadata": json.loads(metadata) if metadata else {}}
    memory = api_from(url, key).call("POST", "/api/memories",
                                     json={k: v for k, v in body.items() if v is not None})
    click.echo(json.dumps(memory, indent=2) if as_json else memory["id"])


@click.command()
@click.argument("query")
@click.option("--limit", default=10, show_default=True)
@click.option("--type", "types", type=TYPES, multiple=True)
@url_option
@key_option
@_json_option
def search(query, limit, types, url, key, as_json):
    """Search memories for QUERY."""
    body = {"query": query, "limit": limit, "types": list(types) or None}
    out = api_from(url, key).call("POST", "/api/search", json=body)
    if as_json:
        return click.echo(json.dumps(out, indent=2))
    for r in out["results"]:
        why = ",".join(r["reasons"].get("strategies", []))
        click.echo(f"{r['score']:.3f}  {_show(r['memory'])}  ({why})")
    if not out["results"]:
        click.echo("no memories matched", err=True)


@click.command("list")
@click.option("--type", "types", type=TYPES, multiple=True)
@click.option("--entity")
@click.option("--superseded", is_flag=True, help="Include superseded memories.")
@click.option("--limit", default=20, show_default=True)
@click.option("--offset", default=0)
@url_option
@key_option
@_json_option
def list_(types, entity, superseded, limit, offset, url, key, as_json):
    """List memories, newest first."""
    params = {"type": list(types), "entity": entity, "limit": limit, "offset": offset,
              "include_superseded": "true" if superseded else None}
    out = api_from(url, key).call("GET", "/api/memories",
                                  params={k: v for k, v in params.items() if v})
    if as_json:
        return click.echo(json.dumps(out, indent=2))
    for m in out["memories"]:
        click.echo(_show(m))
    click.echo(f"{len(out['memories'])} of {out['total']}", err=True)


@click.command()
@click.argument("memory_id")
@url_option
@key_option
def get(memory_id, url, key):
    """Show one memory as JSON."""
    click.echo(json.dumps(api_from(url, key).call("GET", f"/api/memories/{memory_id}"),
                          indent=2))


@click.command()
@click.argument("memory_id")
@url_option
@key_option
def history(memory_id, url, key):
    """Show a memory's audit trail (adds, edits, supersessions, restores)."""
    for h in api_from(url, key).call("GET", f"/api/memories/{memory_id}/history"):
        change = (f"{h['old_text']!r} -> {h['new_text']!r}" if h["old_text"] != h["new_text"]
                  else repr(h["new_text"]))
        click.echo(f"{h['created_at'][:19]}  {h['event']:<9} {h['actor']:<10} {change}")


@click.command()
@click.argument("memory_id")
@url_option
@key_option
def restore(memory_id, url, key):
    """Make a superseded memory current again (its successor is superseded)."""
    click.echo(_show(api_from(url, key).call("POST", f"/api/memories/{memory_id}/restore")))


@click.command()
@click.argument("memory_id", required=False)
@click.option("--all", "everything", is_flag=True, help="Delete every memory.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@url_option
@key_option
def delete(memory_id, everything, yes, url, key):
    """Forget MEMORY_ID, or everything with --all."""
    api = api_from(url, key)
    if everything:
        if not yes:
            click.confirm("Delete ALL your memories?", abort=True)
        out = api.call("DELETE", "/api/memories", params={"confirm": "true"})
        return click.echo(f"deleted {out['deleted']}")
    if not memory_id:
        raise click.UsageError("give a MEMORY_ID or --all")
    api.call("DELETE", f"/api/memories/{memory_id}")
    click.echo(f"deleted {memory_id}")


@click.command()
@click.option("-o", "--output", type=click.File("w"), default="-", help="File [stdout].")
@url_option
@key_option
def export(output, url, key):
    """Export every memory as JSON lines."""
    for line in api_from(url, key).stream_lines("/api/memories/export"):
        if line:
            output.write(line + "\n")

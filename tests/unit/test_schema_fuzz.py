"""`schemathesis run` against the server's own OpenAPI document: every operation, generated
requests with an admin's key, on a real server (fake models). No response may be a 5xx,
have an undocumented status or content type, or a body or header that breaks its schema.

Bounded for `make test` by tests/schemathesis.toml (deterministic, a few hundred cases);
tests/schema_hooks.py teaches it JSON lines and keeps the run's own key alive."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from support import free_port, uvicorn_thread

TESTS = Path(__file__).parents[1]


def test_every_operation_keeps_its_contract(tmp_path):
    from memlane.api.app import create_app
    from memlane.config import load_settings
    port = free_port()
    settings = load_settings(data_dir=tmp_path / "data", port=port, auth_enabled=True,
                             rate_limit_per_minute=1_000_000, auth_failures_per_minute=0,
                             embedder="hash", nlp="regex",
                             llm="scripted", stt="tone", vad="energy", tts="tone")
    key, key_id, spare_id = asyncio.run(_admin(settings))
    report = tmp_path / "report.json"
    with uvicorn_thread(create_app(settings), port) as url:
        run = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli",
             "--config-file", str(TESTS / "schemathesis.toml"),
             "run", f"{url}/openapi.json", "--header", f"Authorization: Bearer {key}",
             "--report", "json", "--report-json-path", str(report), "--no-color"],
            capture_output=True, text=True, timeout=300, cwd=tmp_path,
            env={**os.environ, "SCHEMATHESIS_HOOKS": str(TESTS / "schema_hooks.py"),
                 "MEMLANE_FUZZ_KEY_ID": key_id, "MEMLANE_FUZZ_SPARE_KEY_ID": spare_id})
    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]
    outcome = json.loads(report.read_text())
    operations, cases = outcome["operations"], outcome["test_cases"]
    assert operations["tested"] == operations["total"] > 30
    assert cases["generated"] >= 300 and cases["with_failures"] == 0


async def _admin(settings) -> tuple[str, str, str]:
    """An admin with two keys, before the server starts: the run's secret, its id, and the
    id of the spare key revoked in its place."""
    from memlane.accounts import Accounts
    from memlane.models import create
    store = create("store", settings.store, settings)
    await store.open()
    try:
        accounts = Accounts(store, settings)
        user = await accounts.create_user("fuzz-admin", is_admin=True)
        record, secret = await accounts.create_key(user.id)
        spare, _ = await accounts.create_key(user.id, "spare")
        return secret, record.id, spare.id
    finally:
        await store.close()

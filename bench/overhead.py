"""What security and observability cost per request: the same calls through the whole app
(every middleware: request id, metrics and access log, rate limit, body limit, auth, and
analytics) in single-user mode (the baseline, no auth or rate limit), with an API key and
with a JWT access token, in one run. Real SQLite and real embedder; no LLM."""
from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time

import httpx

from machine import percentile, state
from memlane.api.app import create_app
from memlane.config import load_settings

CALLS = {"list": ("GET", "/api/memories?limit=5", None),
         "search": ("POST", "/api/search", {"query": "where did we go hiking?", "limit": 5})}


async def timed(client: httpx.AsyncClient, credentials: dict[str, dict], rounds: int
                ) -> dict:
    """p50/p95 per credential and call; the credentials take turns within each round, so
    drift in the machine's speed hits them alike."""
    ms: dict = {who: {call: [] for call in CALLS} for who in credentials}
    for _ in range(rounds):
        for call, (method, path, body) in CALLS.items():
            for who, headers in credentials.items():
                t0 = time.perf_counter()
                r = await client.request(method, path, json=body, headers=headers)
                ms[who][call].append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text
    return {who: {f"{call}_{q}_ms": percentile(values, p) for call, values in calls.items()
                  for q, p in (("p50", .5), ("p95", .95))} for who, calls in ms.items()}


async def mode(data_dir: str, auth: bool, rounds: int) -> dict:
    settings = load_settings(data_dir=data_dir, llm="none", voice_enabled=False,
                             auth_enabled=auth, rate_limit_per_minute=1_000_000)
    app = create_app(settings)
    engine = app.state.engine
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            if not auth:
                for i in range(200):
                    await client.post("/api/memories", json={"text": f"We hiked trail {i}."})
                return await timed(client, {"open": {}}, rounds)
            user = await engine.accounts.create_user("bench")
            _, key = await engine.accounts.create_key(user.id)
            tokens = await engine.accounts.issue_tokens(user)
            for i in range(200):
                await client.post("/api/memories", json={"text": f"We hiked trail {i}."},
                                  headers={"Authorization": f"Bearer {key}"})
            return await timed(client, {
                "api_key": {"Authorization": f"Bearer {key}"},
                "jwt": {"Authorization": f"Bearer {tokens['access_token']}"}}, rounds)


async def main(rounds: int) -> dict:
    out: dict = {"benchmark": "overhead", "rounds": rounds}
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        out.update(await mode(a, False, rounds))
        out.update(await mode(b, True, rounds))
    base = out["open"]
    out["ratios"] = {f"{who}_{call}": round(out[who][f"{call}_p50_ms"]
                                            / max(base[f"{call}_p50_ms"], 1e-6), 2)
                     for who in ("api_key", "jwt") for call in CALLS}
    out["machine"] = state()
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    print(json.dumps(asyncio.run(main(parser.parse_args().rounds))))

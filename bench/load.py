"""Load: N concurrent clients for a bounded time against a real `memlane serve` on loopback
(its own process, real embedder and spaCy, no LLM), in single-user mode and in multi-user
mode (one key per client's user). Each client adds, searches, lists and reads memories
in a fixed mix. Prints one JSON object: requests, errors by status, p50/p95/p99 per kind,
throughput, memories that leaked to another user (multi-user), and the machine state."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from machine import percentile, sample_texts, state
from memlane.config import load_settings

# kind, weight: the mix of issue 17's baseline (23 requests/s): 50 % search, 40 % add
MIX = [("search", 10), ("add", 8), ("list", 1), ("get", 1)]
USERS = 10  # in multi-user mode; clients take turns among them
SEED = 100  # memories per user before the clock starts


def server_env(data_dir: str, port: int, auth: bool) -> dict:
    return {**os.environ, "MEMLANE_DATA_DIR": data_dir, "MEMLANE_PORT": str(port),
            "MEMLANE_AUTH_ENABLED": str(auth).lower(), "MEMLANE_VOICE_ENABLED": "false",
            "MEMLANE_LLM": "none", "MEMLANE_RATE_LIMIT_PER_MINUTE": "1000000",
            "MEMLANE_LOG_LEVEL": "warning", "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


async def seed_keys(data_dir: str, users: int) -> list[str]:
    from memlane.accounts import Accounts
    from memlane.models import create
    settings = load_settings(data_dir=data_dir)
    store = create("store", settings.store, settings)
    await store.open()
    try:
        accounts, keys = Accounts(store, settings), []
        for i in range(users):
            user = await accounts.create_user(f"load{i}")
            keys.append((await accounts.create_key(user.id))[1])
        return keys
    finally:
        await store.close()


def start_server(data_dir: str, port: int, auth: bool) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "memlane.cli", "serve"],
                              env=server_env(data_dir, port, auth),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(server.stderr.read().decode()[-2000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health/ready").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    server.kill()
    raise RuntimeError("the server did not become ready in 120 s")


class Run:
    def __init__(self, url: str, keys: list[str | None], texts: list[str]):
        self.url, self.keys, self.texts = url, keys, texts
        self.ms: dict[str, list[float]] = {kind: [] for kind, _ in MIX}
        self.errors: dict[str, int] = {}
        self.ids: dict[int, list[str]] = {n: [] for n in range(len(keys))}
        self.leaks = 0

    async def seed(self, client: httpx.AsyncClient) -> None:
        for n, key in enumerate(self.keys):
            memories = [{"text": f"{self._marker(n)} {t}"} for t in self.texts[:SEED]]
            r = await client.post("/api/memories/batch", json={"memories": memories},
                                  headers=_auth(key))
            r.raise_for_status()
            self.ids[n] = [m["id"] for m in r.json()["memories"]]

    async def client(self, http: httpx.AsyncClient, number: int, until: float) -> None:
        rnd = random.Random(number)
        user = number % len(self.keys)
        while time.monotonic() < until:
            kind = rnd.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
            method, path, body = self._request(kind, user, rnd)
            start = time.perf_counter()
            try:
                r = await http.request(method, path, json=body, headers=_auth(self.keys[user]))
            except httpx.TimeoutException:
                self.errors["timeout"] = self.errors.get("timeout", 0) + 1
                continue
            self.ms[kind].append((time.perf_counter() - start) * 1000)
            if r.status_code >= 400:
                self.errors[str(r.status_code)] = self.errors.get(str(r.status_code), 0) + 1
            elif kind == "search" and len(self.keys) > 1:
                self.leaks += sum(self._marker(user) not in hit["memory"]["text"]
                                  for hit in r.json()["results"])

    def _request(self, kind: str, user: int, rnd: random.Random) -> tuple:
        text = rnd.choice(self.texts)
        if kind == "add":
            return "POST", "/api/memories", {"text": f"{self._marker(user)} {text} "
                                                     f"({rnd.random():.6f})"}
        if kind == "search":
            return "POST", "/api/search", {"query": " ".join(text.split()[:6]), "limit": 5}
        if kind == "list":
            return "GET", "/api/memories?limit=20", None
        return "GET", f"/api/memories/{rnd.choice(self.ids[user])}", None

    @staticmethod
    def _marker(user: int) -> str:
        return f"loaduser{user}x"

    def report(self, seconds: float) -> dict:
        count = sum(len(v) for v in self.ms.values()) + self.errors.get("timeout", 0)
        return {"requests": count, "throughput_rps": round(count / seconds, 1),
                "errors_by_status": self.errors, "cross_user_leaks": self.leaks,
                "kinds": {kind: {"count": len(v), **{f"{q}_ms": percentile(v, p) if v else None
                                                     for q, p in (("p50", .5), ("p95", .95),
                                                                  ("p99", .99))}}
                          for kind, v in self.ms.items()}}


def _auth(key: str | None) -> dict:
    return {"Authorization": f"Bearer {key}"} if key else {}


async def mode(auth: bool, clients: int, seconds: float, port: int) -> dict:
    with tempfile.TemporaryDirectory() as data_dir:
        keys: list[str | None] = (await seed_keys(data_dir, min(USERS, clients)) if auth
                                  else [None])
        server = start_server(data_dir, port, auth)
        try:
            url = f"http://127.0.0.1:{port}"
            limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
            async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
                run = Run(url, keys, sample_texts(SEED + 400))
                await run.seed(http)
                start = time.monotonic()
                await asyncio.gather(*(run.client(http, n, start + seconds)
                                       for n in range(clients)))
                out = run.report(time.monotonic() - start)
                out["healthy_after"] = (await http.get("/api/health")).json()["status"]
            return out
        finally:
            server.terminate()
            server.wait(30)


async def main(clients: int, seconds: float, port: int) -> dict:
    out: dict = {"benchmark": "load", "clients": clients, "seconds": seconds,
                 "mix": dict(MIX)}
    out["single_user"] = await mode(False, clients, seconds, port)
    out["multi_user"] = await mode(True, clients, seconds, port)
    out["machine"] = state()
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50, choices=range(1, 501),
                        metavar="N", help="concurrent clients, 1-500 [50]")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="how long each mode runs, at most 600 [60]")
    parser.add_argument("--port", type=int, default=8431)
    args = parser.parse_args()
    seconds = min(max(args.seconds, 1.0), 600.0)
    sys.path.insert(0, str(Path(__file__).parent))
    print(json.dumps(asyncio.run(main(args.clients, seconds, args.port))))

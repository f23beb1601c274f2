"""Two real `memlane serve` processes (the test fakes for models) on one PostgreSQL: what
one replica writes, the other serves at once; a job runs on exactly one and is finished by
the other when that one is killed mid-job; a key's rate limit, sign-in failures, analytics
and revoked tokens are the same whichever replica a request reaches."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from click.testing import CliRunner
from test_jobs_restart import _wait
from test_serve_real import _free_port

from memlane.cli import cli
from pg_support import database_for

pytestmark = pytest.mark.integration
SCRIPT = Path(__file__).resolve().parents[1] / "fake_serve.py"
RATE = 30  # requests a minute per key
LEASE = 3.0  # seconds a job's replica may go silent before another takes it over


def _env(db: str) -> dict:
    return {"MEMLANE_STORE": "postgres", "MEMLANE_DATABASE_URL": db,
            "MEMLANE_AUTH_ENABLED": "true", "MEMLANE_RATE_LIMIT_PER_MINUTE": str(RATE),
            "MEMLANE_LOGIN_MAX_FAILURES": "3", "MEMLANE_JOB_LEASE_S": str(LEASE),
            "MEMLANE_ANALYTICS_FLUSH_RECORDS": "1", "MEMLANE_LLM": "slow-facts",
            "MEMLANE_EMBEDDER": "hash", "MEMLANE_NLP": "regex",
            "MEMLANE_VOICE_ENABLED": "false"}


def _start(db: str, data_dir: Path, port: int, delay: float) -> subprocess.Popen:
    env = {**os.environ, **_env(db), "MEMLANE_DATA_DIR": str(data_dir),
           "MEMLANE_PORT": str(port), "FAKE_LLM_DELAY_S": str(delay),
           "PYTHONPATH": os.pathsep.join([str(SCRIPT.parent), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, str(SCRIPT), "serve"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _user(db: str, name: str, tmp_path: Path, *admin: str) -> str:
    result = CliRunner().invoke(cli, ["users", "add", name, *admin],
                                env={**_env(db), "MEMLANE_DATA_DIR": str(tmp_path / "cli")})
    assert result.exit_code == 0, result.output
    return result.output.split('"api_key": "')[1].split('"')[0]


def _extract_jobs(db: str) -> list[tuple]:
    with psycopg.connect(db) as conn:
        return conn.execute("SELECT status, attempts FROM jobs WHERE kind = 'extract'"
                            ).fetchall()


def _up(proc, url: str) -> None:
    _wait(proc, lambda: httpx.get(f"{url}/api/health").status_code == 200, "start")


def test_two_replicas_share_one_postgres(tmp_path):
    db = database_for(tmp_path)
    admin = _user(db, "boss", tmp_path, "--admin")
    ana, bo = _user(db, "ana", tmp_path), _user(db, "bo", tmp_path)
    port_a, port_b = _free_port(), _free_port()
    a_url, b_url = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    a = _start(db, tmp_path / "a", port_a, delay=600)  # its extraction never ends
    b = None
    try:
        _up(a, a_url)
        said = httpx.post(f"{a_url}/api/chat", headers=_h(ana), timeout=30,
                          json={"message": "My bike is a green Brompton"})
        assert said.status_code == 200 and "event: done" in said.text
        _wait(a, lambda: _extract_jobs(db) == [("running", 1)], "A to take the job")
        b = _start(db, tmp_path / "b", port_b, delay=0)
        _up(b, b_url)

        # a memory told to A is found through B at once
        told = httpx.post(f"{a_url}/api/memories", headers=_h(ana),
                          json={"text": "The spare key is under the blue flowerpot"})
        assert told.status_code == 201
        found = httpx.post(f"{b_url}/api/search", headers=_h(ana),
                           json={"query": "where is the spare key"}).json()
        assert told.json()["id"] in [r["memory"]["id"] for r in found["results"]]

        # the job stays A's while A lives (its heartbeat renews the lease)
        time.sleep(2 * LEASE)
        assert _extract_jobs(db) == [("running", 1)]

        _one_rate_limit(a_url, b_url, bo)
        _one_lock_out(a_url, b_url)
        _one_analytics(a_url, b_url, ana)
        _revoked_everywhere(a_url, b_url, ana, admin)

        a.send_signal(signal.SIGKILL)  # A dies mid-job: B finishes it once the lease ends
        a.wait(10)
        _wait(b, lambda: _extract_jobs(db) == [("done", 2)], "B to finish A's job", 30)
    finally:
        for proc in (a, b):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                proc.wait(20)
    assert b.returncode == 0


def _h(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def _one_rate_limit(a_url: str, b_url: str, key: str) -> None:
    """The key's budget is spent by requests to either replica: ~RATE in all, not 2x."""
    codes, start = {a_url: [], b_url: []}, time.monotonic()
    for i in range(2 * RATE + 4):
        url = (a_url, b_url)[i % 2]
        codes[url].append(httpx.get(f"{url}/api/auth/me", headers=_h(key)).status_code)
    allowed = sum(c == 200 for cs in codes.values() for c in cs)
    refilled = (time.monotonic() - start) * RATE / 60
    assert RATE <= allowed <= RATE + refilled + 1  # apart, they would allow 2 x RATE
    assert 429 in codes[a_url] and 429 in codes[b_url]  # each refuses the spent budget


def _one_lock_out(a_url: str, b_url: str) -> None:
    """Wrong passwords counted across replicas: 3 in all lock the name out on both."""
    def guess(url: str) -> int:
        return httpx.post(f"{url}/api/auth/token",
                          json={"username": "ghost", "password": "nope"}).status_code
    assert [guess(a_url), guess(b_url), guess(a_url)] == [401, 401, 401]
    assert guess(b_url) == 429 and guess(a_url) == 429


def _one_analytics(a_url: str, b_url: str, key: str) -> None:
    for url in (a_url, b_url, b_url):
        assert httpx.post(f"{url}/api/search", headers=_h(key),
                          json={"query": "flowerpot"}).status_code == 200

    def searches():
        summary = httpx.get(f"{a_url}/api/analytics", headers=_h(key)).json()
        return summary["kinds"].get("search", 0) >= 4  # one earlier, three now
    _wait_for(searches, "analytics of both replicas in one summary")


def _revoked_everywhere(a_url: str, b_url: str, key: str, admin: str) -> None:
    tokens = httpx.post(f"{a_url}/api/auth/token", json={"api_key": key}).json()
    access = tokens["access_token"]
    assert httpx.get(f"{b_url}/api/auth/me", headers=_h(access)).status_code == 200
    assert httpx.post(f"{a_url}/api/auth/revoke", headers=_h(access)).status_code == 204
    assert httpx.get(f"{b_url}/api/auth/me", headers=_h(access)).status_code == 401
    [ana_key] = httpx.get(f"{b_url}/api/admin/keys", params={"user": "ana"},
                          headers=_h(admin)).json()
    assert httpx.delete(f"{a_url}/api/admin/keys/{ana_key['id']}", headers=_h(admin)
                        ).status_code == 204
    assert httpx.get(f"{b_url}/api/auth/me", headers=_h(key)).status_code == 401


def _wait_for(check, what: str, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while not check():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)

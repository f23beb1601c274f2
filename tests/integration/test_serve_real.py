"""`memlane serve` as a user runs it: a real process, real models, real SQLite file."""
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path, real_llm):
    port = _free_port()
    env = {**os.environ, "MEMLANE_DATA_DIR": str(tmp_path / "d"), "MEMLANE_PORT": str(port),
           "MEMLANE_LLM_MODEL_PATH": str(real_llm.model_path)}  # assembled once per machine
    proc = subprocess.Popen([sys.executable, "-m", "memlane.cli", "serve"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        assert proc.poll() is None, proc.stdout.read()
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.time() < deadline, "server did not come up"
        time.sleep(0.3)
    yield url, tmp_path / "d", proc
    proc.send_signal(signal.SIGINT)
    assert proc.wait(20) == 0


def test_serve_health_then_remember_and_find(served):
    url, data_dir, _ = served
    health = httpx.get(f"{url}/api/health").json()
    assert health["status"] == "ok" and health["database"]["reachable"]
    assert health["models"]["embedder"]["loaded"] and health["models"]["nlp"]["loaded"]
    assert health["models"]["llm"]["loaded"] and health["jobs"]["failed"] == 0
    assert health["models"]["embedder"]["name"] == "all-MiniLM-L6-v2-int8"
    created = httpx.post(f"{url}/api/memories", json={"text": "My dentist is Dr. Okafor."})
    assert created.status_code == 201
    hits = httpx.post(f"{url}/api/search", json={"query": "who is my dentist?"}).json()
    assert hits["results"][0]["memory"]["id"] == created.json()["id"]
    assert (data_dir / "memlane.db").exists()
    assert httpx.get(f"{url}/docs").status_code == 200


def test_a_turn_is_measured_and_logged_and_a_clean_stop_keeps_its_record(served):
    import json
    import sqlite3

    from prometheus_client.parser import text_string_to_metric_families
    url, data_dir, proc = served
    secret = "My locker code is 5521."
    httpx.post(f"{url}/api/memories", json={"text": secret})
    turn = httpx.post(f"{url}/api/chat", timeout=120, json={
        "message": "What is my locker code?", "stream": False, "max_tokens": 12})
    assert turn.status_code == 200, turn.text
    httpx.post(f"{url}/api/search", json={"query": "locker"})
    scraped = {s.name: s.value for f in text_string_to_metric_families(
        httpx.get(f"{url}/metrics").text) for s in f.samples if not s.labels}
    assert scraped["memlane_llm_generations_total"] >= 1
    assert scraped["memlane_llm_first_token_seconds_total"] > 0
    proc.send_signal(signal.SIGINT)  # at once: 2 records, under the batch and the 10 s timer
    assert proc.wait(30) == 0
    with sqlite3.connect(data_dir / "memlane.db") as db:
        rows = dict(db.execute("SELECT kind, phases FROM analytics").fetchall())
    assert set(rows) == {"chat", "search"}
    chat = json.loads(rows["chat"])
    for phase in ("setup", "save_user", "query_analysis", "retrieval_vector", "context",
                  "first_token", "generation", "save", "enqueue"):
        assert chat[phase] > 0, phase
    lines = [json.loads(line) for line in
             (data_dir / "logs" / "memlane.log").read_text().splitlines()]
    said = [line["message"] for line in lines if line["logger"] == "memlane.access"]
    assert any(m.startswith("POST /api/chat 200") for m in said)
    assert all(line["request_id"] for line in lines)
    assert not any("5521" in json.dumps(line) for line in lines)

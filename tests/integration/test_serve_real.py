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
    yield url, tmp_path / "d"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(20) == 0


def test_serve_health_then_remember_and_find(served):
    url, data_dir = served
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

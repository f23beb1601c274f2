"""A background job cut off by killing the server is finished by the next server."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration
SCRIPT = Path(__file__).resolve().parents[1] / "fake_serve.py"


def _start(data_dir: Path, port: int, delay: float) -> subprocess.Popen:
    env = {**os.environ, "MEMLANE_DATA_DIR": str(data_dir), "MEMLANE_PORT": str(port),
           "MEMLANE_LLM": "slow-facts", "MEMLANE_EMBEDDER": "hash", "MEMLANE_NLP": "regex",
           "MEMLANE_VOICE_ENABLED": "false",
           "FAKE_LLM_DELAY_S": str(delay),
           "PYTHONPATH": os.pathsep.join([str(SCRIPT.parent), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, str(SCRIPT), "serve"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait(proc, check, what: str, timeout: float = 60):
    deadline = time.time() + timeout
    while True:
        assert proc.poll() is None, proc.stdout.read()
        try:
            found = check()
            if found:
                return found
        except httpx.TransportError:
            pass
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_killed_servers_extraction_job_is_finished_after_restart(tmp_path):
    from test_serve_real import _free_port
    port, data = _free_port(), tmp_path / "d"
    url = f"http://127.0.0.1:{port}"
    first = _start(data, port, delay=120)
    try:
        _wait(first, lambda: httpx.get(f"{url}/api/health").status_code == 200, "start")
        r = httpx.post(f"{url}/api/chat", json={"message": "My bike is a green Brompton"},
                       timeout=30)
        assert r.status_code == 200 and "event: done" in r.text
        _wait(first, lambda: httpx.get(f"{url}/api/health").json()["jobs"]["running"] == 1,
              "the extraction job to start")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    second = _start(data, port, delay=0)
    try:
        def finished():
            jobs = httpx.get(f"{url}/api/health").json()["jobs"]
            return jobs if jobs["done"] == 1 else None
        jobs = _wait(second, finished, "the resumed job to finish")
        assert jobs["running"] == jobs["queued"] == 0
        memories = httpx.get(f"{url}/api/memories").json()["memories"]
        # kept at once as said; the fact the job drew from it is the same text: one memory
        assert [m["text"] for m in memories] == ["My bike is a green Brompton"]
    finally:
        second.send_signal(signal.SIGINT)
        assert second.wait(20) == 0

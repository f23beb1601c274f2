from __future__ import annotations

import os

import pytest

import fakes  # noqa: F401  (registers the fakes)
import fakes_voice  # noqa: F401
from memlane.config import load_settings
from support import free_port, uvicorn_thread


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch, tmp_path):
    """No MEMLANE_* variable leaks into a test; the data directory is a temp dir."""
    for name in list(os.environ):
        if name.startswith("MEMLANE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MEMLANE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def anyio_backend():
    return "asyncio"


FAKES = {"embedder": "hash", "nlp": "regex", "llm": "scripted", "stt": "tone",
         "vad": "energy", "tts": "tone"}


@pytest.fixture
def fake_settings(tmp_path):
    return load_settings(data_dir=tmp_path / "data", **FAKES)


@pytest.fixture
def make_client(tmp_path):
    """A started in-process app (fakes unless told otherwise); closed after the test."""
    from fastapi.testclient import TestClient

    from memlane.api.app import create_app
    clients = []

    def make(engine=None, **overrides) -> TestClient:
        options = {"data_dir": tmp_path / "data", **FAKES}
        settings = load_settings(**{**options, **overrides})
        client = TestClient(create_app(settings, engine))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client):
    return make_client()



@pytest.fixture
def live_server(tmp_path):
    """A real uvicorn server in a thread (fake models); yields its base URL."""


    from memlane.api.app import create_app
    port = free_port()
    settings = load_settings(data_dir=tmp_path / "live", port=port, **FAKES)
    with uvicorn_thread(create_app(settings), port) as url:
        yield url

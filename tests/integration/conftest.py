"""Integration tests run on the real packaged models, loaded once per session."""
from __future__ import annotations

import pytest

from memlane.config import load_settings
from memlane.engine import Engine
from memlane.models import create
from memlane.models.runner import ModelRunner


@pytest.fixture(scope="session")
def real_models():
    settings = load_settings()
    return (create("embedder", "minilm", settings), create("nlp", "spacy", settings))


@pytest.fixture
def real_client(make_client, real_models, tmp_path):
    """The app on a fresh SQLite file with the real embedder and spaCy model."""
    settings = load_settings(data_dir=tmp_path / "real")
    engine = Engine(settings, create("store", "sqlite", settings), ModelRunner(*real_models))
    return make_client(engine=engine, data_dir=tmp_path / "real")

"""Integration tests run on the real packaged models, loaded once per session."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from memlane.config import load_settings
from memlane.emotion.service import Emotions
from memlane.engine import Engine
from memlane.models import create
from memlane.models.runner import ModelRunner


class RealModels:
    """The real embedder and spaCy model, and the emotion classifier trained on them, made
    once per session and shared by every engine the tests build."""

    def __init__(self):
        settings = load_settings()
        self.embedder = create("embedder", "minilm", settings)
        self.nlp = create("nlp", "spacy", settings)
        self.classifier = create("emotion", "embedding", settings)
        asyncio.run(Emotions(ModelRunner(self.embedder, self.nlp), self.classifier).warm_up())

    def engine(self, settings, llm, **options) -> Engine:
        runner = ModelRunner(self.embedder, self.nlp)
        return Engine(settings, create("store", "sqlite", settings), runner, llm,
                      emotions=Emotions(runner, self.classifier), **options)


@pytest.fixture(scope="session")
def real_models():
    return RealModels()


@pytest.fixture(scope="session")
def real_llm():
    """The packaged local LLM, loaded and warmed once. Its 1 GiB GGUF is assembled once per
    machine, into MEMLANE_TEST_MODELS_DIR (default: <repo>/.venv/memlane-test-data)."""
    default = Path(__file__).resolve().parents[2] / ".venv" / "memlane-test-data"
    data_dir = Path(os.environ.get("MEMLANE_TEST_MODELS_DIR") or default)
    llm = create("llm", "local", load_settings(data_dir=data_dir, llm="local"))
    llm.warm_up()
    yield llm
    llm.close()


def _real_app(make_client, real_models, real_llm, data_dir, **overrides):
    settings = load_settings(data_dir=data_dir, **overrides)
    engine = real_models.engine(settings, real_llm)
    return make_client(engine=engine, data_dir=data_dir)


@pytest.fixture
def real_client(make_client, real_models, real_llm, tmp_path):
    """The app on a fresh SQLite file with the real embedder, spaCy model and LLM; no
    background extraction (it would compete for the one LLM)."""
    return _real_app(make_client, real_models, real_llm, tmp_path / "real",
                     extraction_enabled=False)


@pytest.fixture
def real_learning_client(make_client, real_models, real_llm, tmp_path):
    """As real_client, with fact extraction from chat turns and long texts."""
    return _real_app(make_client, real_models, real_llm, tmp_path / "learn")


# speech: Whisper base, Silero VAD and piper, each loaded once per session
@pytest.fixture(scope="session")
def speech_settings():
    default = Path(__file__).resolve().parents[2] / ".venv" / "memlane-test-data"
    return load_settings(data_dir=Path(os.environ.get("MEMLANE_TEST_MODELS_DIR") or default))


@pytest.fixture(scope="session")
def whisper(speech_settings):
    stt = create("stt", "whisper", speech_settings)
    stt.warm_up()
    return stt


@pytest.fixture(scope="session")
def silero(speech_settings):
    vad = create("vad", "silero", speech_settings)
    vad.warm_up()
    return vad


@pytest.fixture(scope="session")
def piper(speech_settings):
    tts = create("tts", "piper", speech_settings)
    tts.warm_up()
    return tts

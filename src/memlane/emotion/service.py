"""The emotion service: trains the text classifier at warm-up and reads emotions."""
from __future__ import annotations

import asyncio
import time

import numpy as np

from ..models.runner import ModelRunner
from .classifier import EmbeddingEmotion
from .fusion import fuse
from .importance import importance
from .labels import TRAINING, read_examples
from .reading import EmotionReading


class Emotions:
    def __init__(self, models: ModelRunner, classifier: EmbeddingEmotion):
        self.models, self.classifier = models, classifier
        self.seconds: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def warm_up(self) -> None:
        """Embeds the labelled training sentences and fits the classifier (once)."""
        async with self._lock:
            if self.classifier.fitted:
                return
            texts, labels = read_examples(TRAINING)
            start = time.perf_counter()
            vectors = await self.models.embed(texts)
            embedded = time.perf_counter()
            await asyncio.to_thread(self.classifier.fit, vectors, labels)
            self.seconds = {"embed": round(embedded - start, 3),
                            "fit": round(time.perf_counter() - embedded, 3),
                            "examples": len(texts)}

    def info(self) -> dict:
        return {"name": "embedding", "loaded": self.classifier.fitted, "warm_up": self.seconds,
                **self.classifier.info()}

    async def detect(self, text: str) -> EmotionReading:
        if not self.classifier.fitted:
            await self.warm_up()
        vector = await self.models.embed_query(text)
        return self.classifier.classify(vector[None, :])[0]

    def detect_vectors(self, vectors: np.ndarray) -> list[EmotionReading]:
        """Readings for texts already embedded (with the same embedder)."""
        return self.classifier.classify(vectors)

    @staticmethod
    def fuse(text: EmotionReading, speech: EmotionReading | None) -> EmotionReading:
        return fuse(text, speech)

    @staticmethod
    def importance(text: str, reading: EmotionReading | None) -> float:
        return importance(text, reading)

"""Text emotion from sentence embeddings, trained at warm-up on labelled sentences.

Two learners are cross-validated on the training examples and the better one is kept:
nearest prototypes (cosine to one or a few centres per label) and a softmax regression
fitted by gradient descent. Either gives logits; a temperature chosen on the out-of-fold
logits turns them into probabilities, so a reading's confidence is calibrated-ish.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from .evaluation import metrics
from .labels import LABELS
from .reading import EmotionReading

TEMPERATURES = np.geomspace(0.005, 5.0, 41)
BLOCK = 64  # rows per matrix product (see `matmul`)


class Prototypes:
    """k centres per label (the mean when k=1, else spherical k-means); a text's logit
    for a label is its best cosine to that label's centres."""

    def __init__(self, k: int = 1, seed: int = 0):
        self.k, self.seed = k, seed

    def fit(self, x: np.ndarray, y: np.ndarray) -> Prototypes:
        self.centres = [_centres(x[y == c], self.k, self.seed) for c in range(y.max() + 1)]
        return self

    def logits(self, x: np.ndarray) -> np.ndarray:
        return np.stack([matmul(x, c.T).max(axis=1) for c in self.centres], axis=1)


class SoftmaxRegression:
    """Multinomial logistic regression on standardised features: full-batch gradient
    descent with momentum and an L2 penalty."""

    def __init__(self, l2: float = 0.1, steps: int = 150, rate: float = 0.2):
        self.l2, self.steps, self.rate = l2, steps, rate

    def fit(self, x: np.ndarray, y: np.ndarray) -> SoftmaxRegression:
        self.mean, self.scale = x.mean(axis=0), x.std(axis=0) + 1e-6
        xs = (x - self.mean) / self.scale
        onehot = np.eye(y.max() + 1, dtype=np.float32)[y]
        self.w = np.zeros((x.shape[1], onehot.shape[1]), dtype=np.float32)
        self.b = np.zeros(onehot.shape[1], dtype=np.float32)
        vw, vb = np.zeros_like(self.w), np.zeros_like(self.b)
        for _ in range(self.steps):
            error = (softmax(matmul(xs, self.w) + self.b) - onehot) / len(x)
            vw = 0.9 * vw - self.rate * (matmul_t(xs, error) + self.l2 * self.w)
            vb = 0.9 * vb - self.rate * error.sum(axis=0)
            self.w += vw
            self.b += vb
        return self

    def logits(self, x: np.ndarray) -> np.ndarray:
        return matmul((x - self.mean) / self.scale, self.w) + self.b


LEARNERS: dict[str, Callable[[], Prototypes | SoftmaxRegression]] = {
    "prototypes": lambda: Prototypes(k=1),
    "prototypes-k3": lambda: Prototypes(k=3),
    "logistic": lambda: SoftmaxRegression(),
}


class EmbeddingEmotion:
    """`fit(vectors, labels)` then `classify(vectors)`. With method "auto" every learner
    in LEARNERS is cross-validated and the best by accuracy is refitted on all data."""

    def __init__(self, method: str = "auto", folds: int = 5, seed: int = 0):
        if method != "auto" and method not in LEARNERS:
            raise ValueError(f"unknown method {method!r}; known: auto, {', '.join(LEARNERS)}")
        self.method, self.folds, self.seed = method, folds, seed
        self.model = None
        self.classes: list[str] = list(LABELS)
        self.chosen: str | None = None
        self.temperature = 1.0
        self.report: dict[str, dict] = {}
        self.fit_seconds = 0.0

    @property
    def fitted(self) -> bool:
        return self.model is not None

    def fit(self, vectors: np.ndarray, labels: list[str]) -> EmbeddingEmotion:
        start = time.perf_counter()
        self.classes = [label for label in LABELS if label in set(labels)]
        x = np.asarray(vectors, dtype=np.float32)
        y = np.array([self.classes.index(label) for label in labels])
        if np.bincount(y).min() < 2:
            raise ValueError("every label needs at least two training examples")
        names = list(LEARNERS) if self.method == "auto" else [self.method]
        self.report = {name: self._validate(name, x, y) for name in names}
        self.chosen = max(names, key=lambda n: (self.report[n]["cv_accuracy"],
                                                -self.report[n]["cv_log_loss"]))
        self.temperature = self.report[self.chosen]["temperature"]
        self.model = LEARNERS[self.chosen]().fit(x, y)
        self.fit_seconds = time.perf_counter() - start
        return self

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        if self.model is None:
            raise RuntimeError("the emotion classifier is not fitted: call fit() first")
        logits = self.model.logits(np.asarray(vectors, dtype=np.float32))
        return softmax(logits / self.temperature)

    def classify(self, vectors: np.ndarray) -> list[EmotionReading]:
        return [EmotionReading.from_scores(dict(zip(self.classes, row.tolist())))
                for row in self.probabilities(vectors)]

    def info(self) -> dict:
        return {"method": self.chosen or self.method, "fitted": self.fitted,
                "temperature": self.temperature,
                "fit_seconds": round(self.fit_seconds, 3), "cross_validation": self.report}

    def _validate(self, name: str, x: np.ndarray, y: np.ndarray) -> dict:
        folds = min(self.folds, int(np.bincount(y).min()))
        oof = cross_validated_logits(LEARNERS[name], x, y, folds, self.seed)
        temperature, loss = best_temperature(oof, y)
        scores = metrics([self.classes[i] for i in y],
                         [self.classes[i] for i in oof.argmax(axis=1)], self.classes)
        return {"cv_accuracy": scores["accuracy"], "cv_macro_f1": scores["macro_f1"],
                "cv_log_loss": round(loss, 4), "temperature": temperature}


def cross_validated_logits(make: Callable, x: np.ndarray, y: np.ndarray, folds: int,
                           seed: int) -> np.ndarray:
    """Out-of-fold logits from stratified k-fold cross-validation (every label needs at
    least ``folds`` examples, so each training fold holds every label)."""
    fold = np.empty(len(y), dtype=int)
    rng = np.random.default_rng(seed)
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        fold[members] = np.arange(len(members)) % folds
    out = np.zeros((len(y), y.max() + 1), dtype=np.float32)
    for k in range(folds):
        held = fold == k
        out[held] = make().fit(x[~held], y[~held]).logits(x[held])
    return out


def best_temperature(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The temperature (from a fixed grid) minimising the log-loss, and that loss."""
    losses = [float(-np.log(softmax(logits / t)[np.arange(len(y)), y] + 1e-12).mean())
              for t in TEMPERATURES]
    best = int(np.argmin(losses))
    return float(TEMPERATURES[best]), losses[best]


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` in row blocks. OpenBLAS spreads a product of more than ~262k multiply-adds
    over every core; on a busy 2-core machine each such call then waits for a time slice
    (~16 ms), which made training 30x slower. Blocks this small stay on one thread."""
    if len(a) <= BLOCK:
        return a @ b
    return np.concatenate([a[i:i + BLOCK] @ b for i in range(0, len(a), BLOCK)])


def matmul_t(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a.T @ b`` in row blocks (see `matmul`)."""
    return sum(a[i:i + BLOCK].T @ b[i:i + BLOCK] for i in range(0, len(a), BLOCK))


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _centres(x: np.ndarray, k: int, seed: int, rounds: int = 10) -> np.ndarray:
    if k <= 1 or len(x) <= k:
        return _unit(x.mean(axis=0, keepdims=True) if k <= 1 else x)
    centres = x[np.random.default_rng(seed).choice(len(x), k, replace=False)]
    for _ in range(rounds):
        nearest = matmul(x, centres.T).argmax(axis=1)
        centres = _unit(np.stack([x[nearest == j].mean(axis=0) if (nearest == j).any()
                                  else centres[j] for j in range(k)]))
    return centres


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

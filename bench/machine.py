"""Machine state printed with every benchmark (2-core machines are noisy: read ratios)."""
from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

import memlane

ROOT = Path(__file__).resolve().parents[1]
LOCOMO = ROOT.parent / "shared" / "data" / "locomo-dev.json"


def state() -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = None
    return {"cpus": os.cpu_count(), "loadavg": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "memlane": memlane.__version__,
            "commit": commit, "time": time.strftime("%Y-%m-%dT%H:%M:%S")}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def sample_texts(n: int) -> list[str]:
    """Real conversational turns when the LoCoMo file is beside the project, else a
    deterministic synthetic mix."""
    import json
    texts: list[str] = []
    if LOCOMO.exists():
        for conv in json.loads(LOCOMO.read_text()):
            c = conv["conversation"]
            for key, turns in c.items():
                if key.startswith("session_") and isinstance(turns, list):
                    texts += [t["text"] for t in turns]
    topics = ["hiking", "a new job", "the dentist", "painting", "a trip to Oslo", "the garden"]
    i = 0
    while len(texts) < n:
        texts.append(f"Note {i}: talked about {topics[i % len(topics)]} with friend {i % 37}.")
        i += 1
    return texts[:n]

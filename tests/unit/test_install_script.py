"""scripts/requirements.py splits pyproject's requirements for the Makefile: llama-cpp-python
builds in the background while everything else installs, and nothing is left out."""
import os
import shlex
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


LLAMA_CPP_PYTHON = """cmake_minimum_required(VERSION 3.21)
project(llama_cpp NONE)
# what llama-cpp-python 0.3.x's CMakeLists does before it adds llama.cpp
set(LLAMA_BUILD_COMMON ON CACHE BOOL "Build llama.cpp common library" FORCE)
add_subdirectory(vendor/llama.cpp)
"""
LLAMA_CPP = """cmake_minimum_required(VERSION 3.14)
project("llama.cpp" NONE)
option(LLAMA_BUILD_COMMON "llama: build common utils library" ON)
file(WRITE ${CMAKE_BINARY_DIR}/common.txt "${LLAMA_BUILD_COMMON}")
"""


def test_llama_cpp_builds_without_its_common_library(tmp_path):
    """The Makefile's CMAKE_ARGS turn off llama.cpp's common library (never loaded by the
    Python package) although llama-cpp-python forces it on: checked on a stand-in project
    with the same structure, the arguments split as scikit-build-core splits CMAKE_ARGS."""
    args = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(ROOT),
         "--eval=print-llama-args: ; @echo \"$(LLAMA_CMAKE_ARGS)\"", "print-llama-args"],
        capture_output=True, text=True, check=True,
        # under `make test`, not the outer make's flags (-n, jobserver…)
        env={k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")},
    ).stdout.strip()
    assert "-DLLAVA_BUILD=OFF" in args
    (tmp_path / "src" / "vendor" / "llama.cpp").mkdir(parents=True)
    (tmp_path / "src" / "CMakeLists.txt").write_text(LLAMA_CPP_PYTHON)
    (tmp_path / "src" / "vendor" / "llama.cpp" / "CMakeLists.txt").write_text(LLAMA_CPP)

    def common(*extra: str) -> str:
        build = tmp_path / f"build{len(extra)}"
        subprocess.run(["cmake", "-S", str(tmp_path / "src"), "-B", str(build), *extra],
                       capture_output=True, text=True, check=True)
        return (build / "common.txt").read_text()

    assert common() == "ON"  # the stand-in forces it on, as llama-cpp-python does
    assert common(*shlex.split(args)) == "OFF"

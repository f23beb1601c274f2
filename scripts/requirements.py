"""Print memlane's requirements from pyproject.toml, one a line: its dependencies and those
of the extras named, less the packages named after --without (or only those, with --only).
The Makefile installs everything else while llama-cpp-python builds from source.

    python scripts/requirements.py --extras dev,voice --without llama-cpp-python
    python scripts/requirements.py --only llama-cpp-python
"""
from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def name(requirement: str) -> str:
    return re.split(r"[\s<>=!~\[;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def requirements(extras: list[str]) -> list[str]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    found = list(project["dependencies"])
    for extra in extras:
        found += project["optional-dependencies"][extra]
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--extras", default="", help="comma-separated extras to include")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--without", action="append", default=[], metavar="PACKAGE")
    group.add_argument("--only", action="append", default=[], metavar="PACKAGE")
    args = p.parse_args(argv)
    found = requirements([e for e in args.extras.split(",") if e])
    if args.only:
        found = [r for r in found if name(r) in args.only]
    found = [r for r in found if name(r) not in args.without]
    print("\n".join(found))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

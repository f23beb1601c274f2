"""Choosing the PostgreSQL store: settings refuse it without a URL, and without the
optional extra installed it fails with the command that installs it."""
from __future__ import annotations

import subprocess
import sys

import pytest

from memlane.config import load_settings


def test_postgres_needs_a_database_url(tmp_path):
    with pytest.raises(ValueError, match="MEMLANE_DATABASE_URL"):
        load_settings(store="postgres", data_dir=tmp_path)


def test_missing_extra_names_the_install_command(tmp_path):
    script = (
        "import sys\n"
        "sys.modules['psycopg'] = None  # as if the extra were not installed\n"
        "from memlane.config import load_settings\n"
        "from memlane.errors import Invalid\n"
        "from memlane.models import create\n"
        f"s = load_settings(store='postgres', database_url='postgresql://x/y', "
        f"data_dir={str(tmp_path)!r})\n"
        "try:\n"
        "    create('store', 'postgres', s)\n"
        "except Invalid as exc:\n"
        "    print(exc.message)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert "pip install 'memlane[postgres]'" in out

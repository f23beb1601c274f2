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


def test_rotate_secret_on_postgres_replaces_the_shared_one(tmp_path):
    import asyncio

    from click.testing import CliRunner

    from memlane.accounts import SIGNING_STATE, Accounts
    from memlane.cli import cli
    from memlane.store.postgres import PostgresStore
    from pg_support import database_for
    url = database_for(tmp_path)

    async def secret(prepare: bool = False) -> str:
        store = PostgresStore(url)
        await store.open()
        try:
            if prepare:
                accounts = Accounts(store, load_settings(data_dir=tmp_path))
                await accounts.prepare_secret()
            return await store.update_state(SIGNING_STATE, lambda v: (v, v), ttl_s=1e9)
        finally:
            await store.close()
    first = asyncio.run(secret(prepare=True))
    assert len(first) >= 32 and asyncio.run(secret(prepare=True)) == first
    env = {"MEMLANE_STORE": "postgres", "MEMLANE_DATABASE_URL": url,
           "MEMLANE_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(cli, ["rotate-secret"], env=env)
    assert result.exit_code == 0 and "in the database" in result.output
    assert asyncio.run(secret()) not in (first, None)
    assert not (tmp_path / "jwt-secret").exists()

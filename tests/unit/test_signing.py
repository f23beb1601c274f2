"""The token signing secret: never a published string, made per data directory (mode 0600)
unless the settings supply one, and kept across restarts."""
from __future__ import annotations

import stat
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from memlane import tokens
from memlane.config import PUBLISHED_SECRETS, load_settings
from memlane.signing import FILE_NAME, signing_secret
from support import add_user


def _forged(secret: str, subject: str) -> str:
    now = int(time.time())
    claims = {"sub": subject, "typ": "access", "iat": now, "exp": now + 600,
              "jti": uuid.uuid4().hex}
    body = f"{tokens._encode(tokens.HEADER)}.{tokens._encode(claims)}"
    return f"{body}.{tokens._b64(tokens._mac(secret, body))}"


def test_tokens_signed_with_published_strings_are_401(make_client):
    client = make_client(auth_enabled=True)
    alice = add_user(client, "alice")
    alice_id = client.get("/api/auth/me", headers=alice).json()["id"]
    for secret in sorted(PUBLISHED_SECRETS | {"", "memlane"}):
        for subject, path in (("local", "/api/admin/users"), (alice_id, "/api/memories"),
                              (alice_id, "/v1/models")):
            r = client.get(path, headers={"Authorization": f"Bearer {_forged(secret, subject)}"})
            assert r.status_code == 401, (secret, path, r.status_code)


def test_the_secret_is_made_on_first_start_readable_by_its_owner_only(make_client, tmp_path):
    client = make_client(auth_enabled=True)
    path = tmp_path / "data" / FILE_NAME
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = client.app.state.engine.accounts.secret
    assert len(secret) >= 32 and secret not in PUBLISHED_SECRETS
    assert path.read_text().strip() == secret
    token = _forged(secret, "local")
    assert client.get("/api/admin/users", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 200
    again = load_settings(data_dir=tmp_path / "data")
    assert signing_secret(again) == secret  # a restart keeps tokens valid


def test_each_data_directory_gets_its_own_secret(tmp_path):
    one = signing_secret(load_settings(data_dir=tmp_path / "one"))
    two = signing_secret(load_settings(data_dir=tmp_path / "two"))
    assert one != two


def test_a_secret_from_the_settings_is_used_and_no_file_is_made(make_client, tmp_path):
    shared = "r3plica-shared-" + "k" * 30
    client = make_client(auth_enabled=True, jwt_secret=shared)
    assert client.app.state.engine.accounts.secret == shared
    assert not (tmp_path / "data" / FILE_NAME).exists()


def test_a_secret_file_readable_by_others_is_tightened(tmp_path):
    path = tmp_path / "data" / FILE_NAME
    path.parent.mkdir(parents=True)
    path.write_text("s" * 40)
    path.chmod(0o644)
    assert signing_secret(load_settings(data_dir=tmp_path / "data")) == "s" * 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_unusable_secret_file_refuses_to_start(tmp_path):
    path = tmp_path / "data" / FILE_NAME
    path.parent.mkdir(parents=True)
    path.write_text("\n")
    with pytest.raises(RuntimeError, match="no usable secret"):
        signing_secret(load_settings(data_dir=tmp_path / "data"))


def test_processes_starting_together_agree_on_one_secret(tmp_path):
    settings = load_settings(data_dir=tmp_path / "race")
    with ThreadPoolExecutor(8) as pool:
        made = set(pool.map(lambda _: signing_secret(settings), range(16)))
    assert len(made) == 1


def test_rotating_the_secret_ends_every_token_after_a_restart(make_client, tmp_path):
    from click.testing import CliRunner

    from memlane.cli import cli
    data = tmp_path / "data"
    old = signing_secret(load_settings(data_dir=data))
    result = CliRunner().invoke(cli, ["rotate-secret", "--data-dir", str(data)])
    assert result.exit_code == 0 and "restart" in result.output
    client = make_client(auth_enabled=True)
    assert client.app.state.engine.accounts.secret != old
    assert stat.S_IMODE((data / FILE_NAME).stat().st_mode) == 0o600
    r = client.get("/api/admin/users", headers={"Authorization": f"Bearer {_forged(old, 'local')}"})
    assert r.status_code == 401


def test_a_secret_from_the_settings_is_rotated_there(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from memlane.cli import cli
    monkeypatch.setenv("MEMLANE_JWT_SECRET", "s" * 40)
    result = CliRunner().invoke(cli, ["rotate-secret", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "MEMLANE_JWT_SECRET" in result.output

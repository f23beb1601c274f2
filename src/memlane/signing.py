"""The secret that signs access and refresh tokens: `MEMLANE_JWT_SECRET` when set (replicas
share it that way), otherwise a random one made once per data directory and kept in a file
only its owner can read. Deleting the file (or changing the setting) rotates it: every
token issued so far stops working; API keys do not depend on it."""
from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from .config import Settings

log = logging.getLogger(__name__)
FILE_NAME = "jwt-secret"


def signing_secret(settings: Settings) -> str:
    if settings.jwt_secret:
        return settings.jwt_secret
    return _from_file(settings.data_dir / FILE_NAME)


def rotate(settings: Settings) -> Path:
    """Replace the data directory's secret; a server uses the new one from its next start."""
    if settings.jwt_secret:
        raise ValueError("the secret comes from MEMLANE_JWT_SECRET: change it there")
    path = settings.data_dir / FILE_NAME
    path.unlink(missing_ok=True)
    _from_file(path)
    return path


def _from_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _create(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("%s was readable by others (mode %o): now 0600", path, mode)
        path.chmod(0o600)
    secret = path.read_text().strip()
    if len(secret) < 32:
        raise RuntimeError(f"{path} holds no usable secret: delete it to make a new one")
    return secret


def _create(path: Path) -> None:
    """Write a new secret whole, then link it into place: two processes starting on the
    same data directory at once end up with the same secret, never a half-written one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
        log.info("made a new token signing secret in %s", path)
    except FileExistsError:
        pass  # another process made it first
    finally:
        tmp.unlink(missing_ok=True)

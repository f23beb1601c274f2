"""Password guessing is throttled per user name and per client address, whatever headers
come with each attempt; a lock-out answers 429 with Retry-After and checks no password."""
from __future__ import annotations

import uuid

import pytest

from memlane.lockout import Lockout
from support import add_user


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _create_user(client, name: str, password: str) -> None:
    accounts = client.app.state.engine.accounts
    client.portal.call(lambda: accounts.create_user(name, password=password))


def _guess(client, name: str, password: str):
    bogus = {"Authorization": f"Bearer {uuid.uuid4().hex}"}  # a new rate-limit bucket each
    return client.post("/api/auth/token", json={"username": name, "password": password},
                       headers=bogus)


def test_guessing_one_users_password_is_locked_out_whatever_the_headers(make_client):
    client = make_client(auth_enabled=True, login_max_failures=5, login_lockout_s=60)
    _create_user(client, "alice", "alice-right-1")
    statuses = [_guess(client, "alice", f"guess-{i}").status_code for i in range(150)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    locked = _guess(client, "alice", "alice-right-1")  # even the right one, for now
    assert locked.status_code == 429 and 1 <= int(locked.headers["Retry-After"]) <= 60
    assert "try again" in locked.json()["detail"]


def test_one_address_guessing_many_names_is_locked_out(make_client):
    client = make_client(auth_enabled=True, login_max_failures=5,
                         login_max_failures_per_address=8, login_lockout_s=60)
    _create_user(client, "bob", "bob-right-1")
    statuses = [_guess(client, f"user{i}", "guess").status_code for i in range(12)]
    assert statuses[:8] == [401] * 8 and set(statuses[8:]) == {429}
    assert _guess(client, "bob", "bob-right-1").status_code == 429


def test_a_right_password_clears_the_names_failures(make_client):
    client = make_client(auth_enabled=True, login_max_failures=3)
    _create_user(client, "carol", "carol-right-1")
    for _ in range(2):
        assert _guess(client, "carol", "wrong").status_code == 401
    assert _guess(client, "carol", "carol-right-1").status_code == 200
    for _ in range(2):
        assert _guess(client, "carol", "wrong").status_code == 401
    assert _guess(client, "carol", "carol-right-1").status_code == 200


@pytest.mark.anyio
async def test_a_lock_out_ends_and_old_failures_are_forgiven():
    clock = Clock()
    lockout = Lockout(per_name=3, per_address=0, lockout_s=60, clock=clock)
    assert [await lockout.failed("Dave", "1.2.3.4") for _ in range(3)] == [False, False, True]
    assert await lockout.wait("dave", "5.6.7.8") == 60  # names match case-insensitively
    clock.now += 61
    assert await lockout.wait("dave", "1.2.3.4") == 0
    await lockout.failed("dave", "1.2.3.4")
    await lockout.failed("dave", "1.2.3.4")
    clock.now += 61  # forgiven: the next failure counts as the first
    assert not await lockout.failed("dave", "1.2.3.4")


@pytest.mark.anyio
async def test_zero_turns_a_limit_off_and_memory_stays_bounded():
    lockout = Lockout(per_name=0, per_address=0, lockout_s=60, max_entries=100)
    assert not any([await lockout.failed(f"n{i}", "9.9.9.9") for i in range(1000)])
    assert await lockout.wait("n1", "9.9.9.9") == 0
    assert len(lockout.state) <= 100


def test_an_unknown_user_costs_as_much_as_a_wrong_password():
    """No telling which names exist by how fast a wrong password is refused."""
    import time as clock

    from memlane.passwords import check_password, hash_password
    stored = hash_password("right-password")
    start = clock.perf_counter()
    assert not check_password("guess", stored)
    known = clock.perf_counter() - start
    start = clock.perf_counter()
    assert not check_password("guess", None)
    unknown = clock.perf_counter() - start
    assert unknown > known / 3, (known, unknown)


def test_metrics_need_an_admin_in_multi_user_mode(make_client):
    client = make_client(auth_enabled=True)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=add_user(client, "eve")).status_code == 403
    accounts = client.app.state.engine.accounts

    async def admin_key():
        user = await accounts.create_user("ops", is_admin=True)
        return (await accounts.create_key(user.id))[1]
    key = client.portal.call(admin_key)
    r = client.get("/metrics", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and "memlane" in r.text


def test_refused_credentials_from_one_address_are_throttled_whatever_the_key(make_client):
    client = make_client(auth_enabled=True, auth_failures_per_minute=10)
    alice = add_user(client, "alice")
    statuses = [client.get("/api/memories", headers={
        "Authorization": f"Bearer ml_{uuid.uuid4().hex}"}).status_code for _ in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    r = client.get("/api/memories", headers=alice)  # the address waits, keys and all
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert client.get("/api/health").status_code == 200


def test_refused_socket_handshakes_count_too(make_client):
    from starlette.websockets import WebSocketDisconnect
    client = make_client(auth_enabled=True, auth_failures_per_minute=3)
    for _ in range(3):
        with client.websocket_connect("/ws/ask", headers={"Authorization": "Bearer ml_x"}) \
                as ws:
            ws.receive_bytes()  # the 401 error
            try:
                ws.receive_bytes()
            except WebSocketDisconnect as closed:
                assert closed.code == 1008
    assert client.get("/api/auth/me", headers={"Authorization": "Bearer ml_x"}
                      ).status_code == 429


@pytest.mark.anyio
async def test_buckets_keep_a_bounded_number_of_keys():
    from memlane.api.limits import Buckets
    buckets = Buckets(5, max_keys=100)
    for i in range(10_000):
        await buckets.take(f"key:{i}")
    assert len(buckets.state) == 100
    for _ in range(5):
        assert await buckets.take("busy") == 0
    assert await buckets.wait("busy") > 0 and await buckets.take("busy") > 0

"""Two users with two keys cannot see, search, update, delete or export each other's
memories, through every endpoint. Another user's id answers exactly like a missing one."""
import pytest

from support import add_user


@pytest.fixture
def two(make_client):
    client = make_client(auth_enabled=True)
    alice, bob = add_user(client, "alice"), add_user(client, "bob")
    return client, alice, bob


def test_no_key_or_bad_key_is_401(two):
    client, _, _ = two
    assert client.get("/api/memories").status_code == 401
    r = client.get("/api/memories", headers={"Authorization": "Bearer ml_wrong"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/health").status_code == 200


def test_every_endpoint_is_scoped(two):
    client, alice, bob = two
    secret = "Alice's secret: the vault code is quokka77"
    a = client.post("/api/memories", json={"text": secret, "client_id": "same"},
                    headers=alice).json()
    b = client.post("/api/memories", json={"text": "Bob likes quokka pictures",
                                           "client_id": "same"}, headers=bob)
    assert b.status_code == 201 and b.json()["id"] != a["id"], "client ids are per user"
    mid = a["id"]
    missing = "0" * 32
    for path in (f"/api/memories/{mid}", f"/api/memories/{mid}/history"):
        as_bob, as_missing = client.get(path, headers=bob), client.get(
            path.replace(mid, missing), headers=bob)
        assert as_bob.status_code == as_missing.status_code == 404
        assert as_bob.json() == {**as_missing.json(), "detail": as_bob.json()["detail"]}
        assert secret not in as_bob.text
    assert client.patch(f"/api/memories/{mid}", json={"text": "pwned"},
                        headers=bob).status_code == 404
    assert client.delete(f"/api/memories/{mid}", headers=bob).status_code == 404
    listing = client.get("/api/memories", headers=bob).json()
    assert [m["text"] for m in listing["memories"]] == ["Bob likes quokka pictures"]
    found = client.post("/api/search", json={"query": "vault code quokka77"},
                        headers=bob).json()["results"]
    assert all(r["memory"]["id"] != mid for r in found)
    assert secret not in client.get("/api/memories/export", headers=bob).text
    assert "Alice" not in str(client.get("/api/entities", headers=bob).json())
    dup = client.post("/api/memories", json={"text": secret}, headers=bob)
    assert dup.status_code == 201 and dup.json()["id"] != mid, "dedupe is per user"
    assert client.delete("/api/memories", params={"confirm": "true"},
                         headers=bob).json()["deleted"] == 2
    still = client.get(f"/api/memories/{mid}", headers=alice)
    assert still.status_code == 200 and still.json()["text"] == secret
    assert [h["event"] for h in client.get(f"/api/memories/{mid}/history",
                                           headers=alice).json()] == ["ADD"]


def test_import_goes_to_the_caller_only(two):
    client, alice, bob = two
    client.post("/api/memories/import", content='{"text": "imported by bob"}', headers=bob)
    assert client.get("/api/memories", headers=alice).json()["total"] == 0
    assert client.get("/api/memories", headers=bob).json()["total"] == 1


def test_refuses_open_bind_without_auth():
    from pydantic import ValidationError

    from memlane.config import load_settings
    with pytest.raises(ValidationError, match="without auth"):
        load_settings(host="0.0.0.0")
    assert load_settings(host="0.0.0.0", auth_enabled=True).host == "0.0.0.0"

"""The web app's files as served (in process): the page at `/`, its files under `/app/`,
the API unchanged around them."""
from __future__ import annotations

from memlane.web import STATIC


def test_the_page_and_its_modules_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'src="app/js/main.js"' in page.text
    for path in sorted(STATIC.rglob("*.js")):
        served = client.get("/app/" + path.relative_to(STATIC).as_posix())
        assert served.status_code == 200 and "javascript" in served.headers["content-type"]
        assert served.headers["cache-control"] == "no-cache"
    assert client.get("/app/config.json").json() == {"auth_enabled": False}


def test_the_api_around_it_is_unchanged(client):
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and "detail" in missing.json()
    assert client.post("/api/nothing-here").status_code == 404
    assert "/" not in client.get("/openapi.json").json()["paths"]


def test_the_apps_files_do_not_spend_the_rate_limit(make_client):
    client = make_client(auth_enabled=True, rate_limit_per_minute=2)
    assert client.get("/app/config.json").json() == {"auth_enabled": True}
    for _ in range(5):
        assert client.get("/").status_code == 200
        assert client.get("/app/app.css").status_code == 200
    codes = [client.get("/api/memories").status_code for _ in range(3)]
    assert codes[-1] == 429


def test_agents_lists_the_configured_agents_for_the_picker(make_client, tmp_path):
    agents = tmp_path / "agents.yaml"
    agents.write_text("agents:\n  coach:\n    persona: A patient running coach.\n")
    listed = make_client(agents_file=agents).get("/api/agents").json()["agents"]
    assert {"name": "coach", "persona": True} in listed
    assert {a["name"] for a in listed} >= {"default", "voice", "coach"}

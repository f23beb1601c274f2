"""Importers: ChatGPT and Claude exports (JSON and .zip), transcripts, streaming, and the
REST and CLI doors (idempotent; extraction only when asked)."""
from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from memlane.cli import cli
from memlane.importers import read
from support import run_jobs

DATA = Path(__file__).parent.parent / "data" / "imports"
CHATGPT, CLAUDE = DATA / "chatgpt_conversations.json", DATA / "claude_conversations.json"


def records(path: Path, **options):
    found = list(read(path, **options))
    assert not [r for r in found if isinstance(r, Exception)]
    return found


def test_chatgpt_follows_the_current_branch_with_roles_times_and_titles():
    found = records(CHATGPT)
    assert [(r.metadata["speaker"], r.text) for r in found] == [
        ("User", "I am flying to Lisbon on 12 June with my sister Maya."),
        ("ChatGPT", "Lisbon in June is warm; book the tram 28 early."),
        ("User", "Here is the hotel booking: Hotel Avenida."),
        ("ChatGPT", "Noted: Hotel Avenida."),
        ("User", "My starter is called Bubbles."),
        ("ChatGPT", "Bubbles is a great name for a starter.")]
    first = found[0]
    assert first.client_id == "chatgpt:u-1b" and first.source == "import"
    assert first.occurred_at == datetime.fromtimestamp(1714550500, UTC)
    assert first.metadata == {"speaker": "User", "role": "user", "importer": "chatgpt",
                              "session": "6650f1aa-0000-4000-8000-000000000001",
                              "title": "Trip to Lisbon"}
    assert found[-1].metadata["session"].endswith("0002")


def test_an_export_zip_reads_like_its_conversations_json(tmp_path):
    archive = tmp_path / "chatgpt-export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("chat.html", "<html></html>")
        z.write(CHATGPT, "conversations.json")
    assert records(archive) == records(CHATGPT)


def test_claude_export_reads_text_blocks_senders_and_times():
    found = records(CLAUDE)
    assert [(r.metadata["role"], r.text) for r in found] == [
        ("user", "I grow tomatoes and basil on my balcony."),
        ("assistant", "Tomatoes and basil are good companions."),
        ("user", "My cat Miso turns five in April.")]
    assert found[0].metadata["title"] == "Garden plans" and found[0].client_id == "claude:m-c1"
    assert "title" not in found[2].metadata
    assert found[2].occurred_at == datetime(2024, 4, 10, 18, tzinfo=UTC)


def test_whatsapp_transcripts_ios_day_first_and_android():
    ios = records(DATA / "whatsapp_ios.txt", me="Ben")
    assert [(r.metadata["speaker"], r.text) for r in ios] == [
        ("Ana", "Happy new year! The party is at Rua Augusta 10."),
        ("Ben", "See you there.\nI will bring the cake.")]
    assert ios[0].occurred_at == datetime(2023, 12, 31, 21, 41, 5, tzinfo=UTC)
    assert [r.metadata["role"] for r in ios] == ["speaker", "user"]
    assert ios[0].metadata["session"] == "whatsapp_ios"
    android = records(DATA / "whatsapp_android.txt")
    assert [r.text for r in android] == ["Happy new year from the Android phone!",
                                         "The ferry leaves at 10."]
    assert android[1].occurred_at == datetime(2023, 12, 31, 21, 46, tzinfo=UTC)


def test_plain_and_timestamped_transcripts():
    interview = records(DATA / "interview.txt")
    assert [r.metadata["speaker"] for r in interview] == ["Interviewer", "Dana",
                                                          "Interviewer", "Dana"]
    assert interview[1].text == "In 2019, at the gym on Elm Street.\nIt took me a year to lead."
    assert interview[1].occurred_at is None
    standup = records(DATA / "standup.txt")
    assert [r.occurred_at for r in standup] == [datetime(2024, 5, 1, 10, 30, tzinfo=UTC),
                                                datetime(2024, 5, 1, 10, 31, tzinfo=UTC)]


def test_plain_text_stays_one_memory(tmp_path):
    note = tmp_path / "note.md"
    note.write_text("# Trip\n\nThe hotel in Oslo is booked for June.")
    [found] = records(note)
    assert found.metadata == {"file": "note.md"} and found.text.startswith("# Trip")


def test_a_big_export_is_read_as_a_stream(tmp_path):
    big = tmp_path / "conversations.json"
    one = json.loads(CHATGPT.read_text())[1]
    with big.open("w") as out:
        out.write("[")
        for i in range(2000):
            out.write(("," if i else "") + json.dumps({**one, "conversation_id": f"c{i}"}))
        out.write("]")
    read_so_far = []
    stream = read(big, progress=read_so_far.append)
    next(stream)
    assert sum(read_so_far) < big.stat().st_size / 10


def test_rest_import_is_idempotent_and_keeps_sessions(client):
    body = CHATGPT.read_bytes()
    out = client.post("/api/import", content=body).json()
    assert out == {"imported": 6, "existing": 0, "conversations": 2, "errors": []}
    assert client.post("/api/import", content=body).json()["existing"] == 6
    page = client.get("/api/memories", params={"metadata": json.dumps(
        {"session": "6650f1aa-0000-4000-8000-000000000002"})}).json()
    assert {m["text"] for m in page["memories"]} == {
        "My starter is called Bubbles.", "Bubbles is a great name for a starter."}
    assert all(m["source"] == "import" and m["type"] == "episodic" for m in page["memories"])


def test_rest_import_extracts_only_when_asked_and_only_the_users_words(client):
    client.post("/api/import", content=CLAUDE.read_bytes())
    run_jobs(client)
    assert client.app.state.engine.llm.calls == []
    client.post("/api/memories", json={"text": "unrelated"})
    client.post("/api/import", params={"extract": "true", "filename": "talk.txt",
                                       "me": "Dana"},
                content=(DATA / "interview.txt").read_bytes())
    run_jobs(client)
    said = [c["messages"][-1]["content"] for c in client.app.state.engine.llm.calls
            if c["json_schema"] and "facts" in c["json_schema"]["properties"]]
    # Dana's one-word answer states nothing on its own: only her sentence is read
    assert said == ["In 2019, at the gym on Elm Street. It took me a year to lead."]


def test_rest_import_errors(make_client):
    client = make_client(max_import_bytes=1000)
    bad = client.post("/api/import", content=b'[{"mapping": {}, "title": "x"}, {oops')
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["detail"]
    assert client.post("/api/import", content=b"x" * 2000).status_code == 413
    unknown = client.post("/api/import", params={"format": "csv"}, content=b"a,b")
    assert unknown.status_code == 422


def test_cli_imports_an_export_zip_with_progress(live_server, tmp_path):
    archive = tmp_path / "claude-export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(CLAUDE, "conversations.json")
    runner = CliRunner()
    first = runner.invoke(cli, ["import", str(archive), str(DATA / "whatsapp_ios.txt"),
                                "--url", live_server])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {"imported": 5, "existing": 0, "conversations": 3,
                                        "errors": 0}
    assert "B/s" in first.stderr or "100%" in first.stderr
    again = runner.invoke(cli, ["import", str(archive), "--url", live_server])
    assert json.loads(again.stdout)["existing"] == 3

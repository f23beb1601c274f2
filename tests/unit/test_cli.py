"""The CLI: client commands against a live server, admin commands on the data directory."""
import json

from click.testing import CliRunner

from memlane.cli import cli


def run(*args, **env):
    result = CliRunner().invoke(cli, list(args), env=env or None, catch_exceptions=False)
    return result


def test_client_commands_round_trip(live_server, tmp_path):
    env = {"MEMLANE_URL": live_server}
    added = run("add", "The garage code is 4471", "--type", "semantic", **env)
    assert added.exit_code == 0, added.output
    memory_id = added.output.strip()
    found = run("search", "garage code", **env)
    assert memory_id in found.output and "garage code is 4471" in found.output
    listed = run("list", "--json", **env)
    assert json.loads(listed.stdout)["total"] == 1
    shown = json.loads(run("get", memory_id, **env).stdout)
    assert shown["text"] == "The garage code is 4471"
    exported = tmp_path / "out.jsonl"
    assert run("export", "-o", str(exported), **env).exit_code == 0
    assert json.loads(exported.read_text().splitlines()[0])["id"] == memory_id
    assert run("delete", memory_id, **env).exit_code == 0
    gone = run("get", memory_id, **env)
    assert gone.exit_code == 1 and "404" in gone.output


def test_superseded_memories_listed_restored_and_their_history_shown(fake_settings):
    import time

    import httpx

    from memlane.api.app import create_app
    from support import free_port, uvicorn_thread
    app = create_app(fake_settings)
    with uvicorn_thread(app, free_port()) as url:
        env = {"MEMLANE_URL": url}
        old = run("add", "I live in Paris.", **env).output.strip()
        moved = "I moved to Berlin."
        app.state.engine.llm.enqueue("Noted.", {"facts": [moved]},
                                     {"event": "DELETE", "target": 1, "text": moved})
        httpx.post(f"{url}/api/chat", json={"message": moved, "stream": False})
        deadline = time.time() + 20
        while httpx.get(f"{url}/api/memories/{old}").json()["valid_until"] is None:
            assert time.time() < deadline, "the extraction job did not supersede it"
            time.sleep(0.05)
        assert "Paris" not in run("list", **env).output
        assert "Paris" in run("list", "--superseded", **env).output
        restored = run("restore", old, **env)
        assert restored.exit_code == 0 and "I live in Paris." in restored.output
        assert "Paris" in run("list", **env).output
        history = run("history", old, **env).output
        assert "SUPERSEDE" in history and "RESTORE" in history
        again = run("restore", old, **env)
        assert again.exit_code == 1 and "409" in again.output


def test_import_files_and_folders_with_progress(live_server, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("Buy oat milk on the way home.")
    (folder / "b.md").write_text("# Trip\n\nThe hotel in Oslo is booked for June.")
    (folder / "ignored.bin").write_bytes(b"\x00\x01")
    export = tmp_path / "x.jsonl"
    export.write_text('{"id": "abc", "text": "Exported fact", "type": "profile"}\n')
    result = run("import", str(folder), str(export), "--url", live_server)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "imported": 3, "existing": 0, "conversations": 0, "errors": 0}
    again = run("import", str(folder), "--url", live_server)
    assert json.loads(again.stdout)["existing"] == 2


def test_unreachable_server_is_a_clean_error():
    result = run("list", "--url", "http://127.0.0.1:9")
    assert result.exit_code == 1 and "cannot reach memlane" in result.output


def test_admin_users_and_keys(tmp_path):
    created = run("users", "add", "alice")
    assert created.exit_code == 0, created.output
    body = json.loads(created.stdout)
    assert body["name"] == "alice" and body["api_key"].startswith("ml_")
    assert "alice" in run("users", "list").output
    key = json.loads(run("keys", "create", "alice", "--name", "laptop").stdout)
    listed = run("keys", "list", "alice").output
    assert key["id"] in listed and "active" in listed
    assert run("keys", "revoke", key["id"]).exit_code == 0
    assert "revoked" in run("keys", "list", "alice").output
    assert run("keys", "create", "nobody").exit_code == 1
    assert run("users", "add", "alice").exit_code == 1  # name taken


def test_admin_disables_enables_and_sets_passwords(tmp_path):
    import asyncio

    from memlane.accounts import Accounts
    from memlane.config import load_settings
    from memlane.errors import Unauthorized
    from memlane.models import create
    key = json.loads(run("users", "add", "bob").stdout)["api_key"]
    entered = "correct horse\ncorrect horse\n"
    result = CliRunner().invoke(cli, ["users", "password", "bob"], input=entered)
    assert result.exit_code == 0 and "password set" in result.output
    assert run("users", "disable", "bob").exit_code == 0
    assert "(disabled)" in run("users", "list").output

    async def attempts() -> list[str]:
        store = create("store", (s := load_settings(auth_enabled=True)).store, s)
        await store.open()
        outcomes = []
        for attempt in (lambda a: a.authenticate(key),
                        lambda a: a.tokens_for_password("bob", "correct horse")):
            try:
                await attempt(Accounts(store, s))
                outcomes.append("ok")
            except Unauthorized as exc:
                outcomes.append(exc.message)
        await store.close()
        return outcomes
    assert asyncio.run(attempts()) == ["this user is disabled"] * 2
    assert run("users", "enable", "bob").exit_code == 0
    assert asyncio.run(attempts()) == ["ok", "ok"]
    assert run("users", "disable", "nobody").exit_code == 1


def test_serve_refuses_open_bind_without_auth():
    result = run("serve", "--host", "0.0.0.0")
    assert result.exit_code == 1 and "without auth" in result.output


def _tone_wav(path, *sentences):
    import numpy as np

    from fakes_voice import ToneTTS
    from memlane.voice.audio import wav_bytes
    silence = np.zeros(16000, dtype=np.int16)
    audio = np.concatenate([np.concatenate([ToneTTS().synthesize(s), silence])
                            for s in sentences])
    path.write_bytes(wav_bytes(audio, 16000))
    return str(path)


def test_transcribe_prints_each_utterance(live_server, tmp_path):
    wav = _tone_wav(tmp_path / "note.wav", "Buy oat milk.", "Call Ana at noon.")
    result = run("transcribe", wav, "--url", live_server)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["Buy oat milk.", "Call Ana at noon."]


def test_voice_prints_transcript_and_reply_and_saves_the_audio(live_server, tmp_path):
    import wave
    wav = _tone_wav(tmp_path / "q.wav", "Is it raining?")
    out = tmp_path / "reply.wav"
    result = run("voice", wav, "--out", str(out), "--url", live_server)
    assert result.exit_code == 0, result.output
    assert "you: Is it raining?" in result.stdout
    assert "memlane: You said: Is it raining?" in result.stdout
    import numpy as np

    from fakes_voice import ToneSTT
    with wave.open(str(out)) as reply:
        samples = np.frombuffer(reply.readframes(reply.getnframes()), dtype=np.int16)
    heard = ToneSTT().transcribe(samples / 32768).text  # two WAVs: "You said:" and the rest
    assert heard.split() == ["You", "said:Is", "it", "raining?"]


def test_voice_reports_a_silent_file_and_an_unreachable_server(live_server, tmp_path):
    silent = _tone_wav(tmp_path / "silent.wav", "")
    result = run("voice", silent, "--url", live_server)
    assert result.exit_code == 1 and "422" in result.output and "no speech" in result.output
    gone = run("transcribe", silent, "--url", "http://127.0.0.1:9")
    assert gone.exit_code == 1 and "cannot reach memlane" in gone.output

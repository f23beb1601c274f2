"""The web app in a real browser: Debian's chromium driven by Playwright, against a real
uvicorn on the fake models. Screenshots go to docs/ (the README shows them). Chromium is a
system package (`make system-deps`); without it these tests fail, they do not skip."""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from memlane.api.app import create_app
from memlane.config import load_settings
from support import free_port, seed_people, uvicorn_thread

# screenshots for the README: `make screenshots` sets this to docs/ (read at import, before
# clean_environ); otherwise they go to a temporary directory
SHOTS = os.environ.get("MEMLANE_WEB_SCREENSHOTS")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
WAIT = 10_000  # ms
FAKES = {"embedder": "hash", "nlp": "regex", "llm": "scripted", "stt": "tone",
         "vad": "energy", "tts": "tone"}


def launch(playwright, *extra: str):
    path = shutil.which("chromium")
    assert path, "chromium is missing: `make system-deps` installs it (apt-get install chromium)"
    return playwright.chromium.launch(executable_path=path, args=[*ARGS, *extra])


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect(*args, **kwargs)


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import expect as playwright_expect
    from playwright.sync_api import sync_playwright
    playwright_expect.set_options(timeout=WAIT)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    chromium = launch(playwright)
    yield chromium
    chromium.close()


class Tab:
    """A page that records console errors and failed page scripts."""

    def __init__(self, page, shots: Path):
        self.page, self.errors, self.shots = page, [], shots
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.set_default_timeout(WAIT)

    def go(self, url: str):
        self.page.goto(url)
        self.page.wait_for_selector("main h2")
        return self.page

    def shot(self, name: str, full_page: bool = True) -> Path:
        path = self.shots / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def shots(tmp_path) -> Path:
    return Path(SHOTS).resolve() if SHOTS else tmp_path / "shots"


@pytest.fixture
def tab(browser, shots):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    yield Tab(context.new_page(), shots)
    context.close()


def build(tmp_path, people=None, **overrides):
    """An app on the fake models, its port, and the API keys of the people (name: password)
    seeded in it."""
    port = free_port()
    settings = load_settings(data_dir=tmp_path / "web", port=port, **{**FAKES, **overrides})
    keys = {}
    if people:  # in a thread: Playwright's sync API runs an event loop in this one
        with ThreadPoolExecutor(1) as pool:
            seeding = seed_people(settings, dict.fromkeys(people, False), people)
            keys = pool.submit(asyncio.run, seeding).result()
    return create_app(settings), port, keys


def serve(tmp_path, people=None, **overrides):
    app, port, _ = build(tmp_path, people, **overrides)
    return uvicorn_thread(app, port)


@pytest.fixture
def url(tmp_path):
    with serve(tmp_path) as base:
        yield base


@pytest.fixture
def scripted(tmp_path):
    """A server whose fake LLM replies from a script (no background extraction to take
    replies from it); yields its URL and the LLM."""
    app, port, _ = build(tmp_path, extraction_enabled=False)
    with uvicorn_thread(app, port) as base:
        yield base, app.state.engine.llm


def test_add_list_search_edit_delete_and_undo(tab, url):
    page = tab.go(url + "/#memories")
    page.get_by_label("What to remember").fill("My sister Ann grows orchids on her balcony.")
    page.get_by_label("Type").first.select_option("semantic")
    page.get_by_role("button", name="Add memory").click()
    card = page.locator("li.memory", has_text="orchids")
    card.wait_for()

    page.get_by_role("link", name="Search").click()
    page.get_by_label("Search your memories").fill("orchids")
    page.get_by_role("button", name="Search", exact=True).click()
    hit = page.locator("li.memory", has_text="balcony")
    expect(hit.locator("mark", has_text="orchids")).to_have_count(1)
    expect(hit.locator(".reasons")).to_contain_text("found by")
    tab.shot("search")

    hit.get_by_role("button", name="Edit").click()
    page.get_by_label("Text").fill("My sister Ann grows tulips on her balcony.")
    page.get_by_role("button", name="Save").click()
    page.locator("li.memory", has_text="tulips").wait_for()

    page.get_by_role("link", name="Memories").click()
    card = page.locator("li.memory", has_text="tulips")
    card.get_by_role("button", name="History").click()
    expect(card.locator(".history")).to_contain_text("orchids")
    card.get_by_role("button", name="Delete").click()
    card.wait_for(state="detached")
    assert httpx.get(url + "/api/memories").json()["total"] == 0
    page.get_by_role("button", name="Undo").click()
    page.locator("li.memory", has_text="tulips").wait_for()
    assert httpx.get(url + "/api/memories").json()["total"] == 1
    assert not tab.errors


def test_the_list_pages_on_scroll_and_filters(tab, url):
    batch = [{"text": f"Allotment, week {n}: sowed {crop} in bed {n % 4 + 1}.", "type": "semantic",
              "occurred_at": f"2024-{n % 9 + 1:02d}-10T09:00:00Z"}
             for n, crop in enumerate(["beans", "leeks", "carrots", "kale"] * 6)][:23]
    batch += [{"text": "We hiked up Ben Nevis with Priya.", "type": "episodic",
               "emotion": "joy", "occurred_at": "2025-06-01T12:00:00Z"},
              {"text": "Missed the ferry to Mull.", "type": "episodic", "emotion": "sadness",
               "occurred_at": "2025-07-01T12:00:00Z"}]
    assert httpx.post(url + "/api/memories/batch", json={"memories": batch}).status_code == 201
    page = tab.go(url + "/#memories")
    cards = page.locator("li.memory")
    expect(cards).to_have_count(20)
    tab.shot("memories", full_page=False)
    cards.nth(19).scroll_into_view_if_needed()
    page.mouse.wheel(0, 5000)
    expect(cards).to_have_count(25)
    page.get_by_text("Filters", exact=True).click()
    filters = page.get_by_role("form", name="Filter memories")
    filters.get_by_label("Type").select_option("episodic")
    filters.get_by_role("button", name="Filter").click()
    expect(cards).to_have_count(2)
    filters.get_by_label("Emotion").select_option("joy")
    filters.get_by_role("button", name="Filter").click()
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("Ben Nevis")
    filters.get_by_label("Emotion").select_option("")
    filters.get_by_label("From").fill("2025-06-15")
    filters.get_by_role("button", name="Filter").click()
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("ferry")
    assert not tab.errors


def test_a_superseded_version_is_shown_and_restored(tab, tmp_path):
    app, port, _ = build(tmp_path)
    old = "My passport number ends in 4471."
    merged = "My passport number ends in 4471 and expires in 2030."
    with uvicorn_thread(app, port) as base:
        httpx.post(base + "/api/memories", json={"text": old})
        app.state.engine.llm.enqueue("Noted.", {"facts": [merged]},
                                     {"event": "UPDATE", "target": 1, "text": merged})
        httpx.post(base + "/api/chat", json={
            "message": "My passport number ends in 4471 and it expires in 2030.",
            "stream": False})
        deadline = time.time() + 10
        while merged not in str(httpx.get(base + "/api/memories").json()):
            assert time.time() < deadline, "the extraction job did not supersede"
            time.sleep(0.1)
        page = tab.go(base + "/#memories")
        page.get_by_text("Filters", exact=True).click()
        page.get_by_label("Show superseded versions").check()
        page.get_by_role("button", name="Filter").click()
        superseded = page.locator("li.memory.superseded", has_text=old)
        superseded.get_by_role("button", name="History").click()
        expect(superseded.locator(".history")).to_contain_text("SUPERSEDE")
        superseded.get_by_role("button", name="Restore this version").click()
        expect(page.locator("li.memory:not(.superseded)", has_text=old)).to_have_count(1)
        expect(page.locator("li.memory.superseded", has_text=merged)).to_have_count(1)
        current = httpx.get(base + "/api/memories").json()["memories"]
        assert old in [m["text"] for m in current] and merged not in str(current)
    assert not tab.errors


def test_ask_streams_cites_and_says_when_it_does_not_know(tab, scripted):
    url, llm = scripted
    httpx.post(url + "/api/memories", json={"text": "The spare key is under the blue pot."})
    llm.enqueue("The spare key is under the blue pot by the back door [1].")
    page = tab.go(url + "/#ask")
    page.evaluate("""window.updates = 0;
        new MutationObserver((m) => { window.updates += m.length; })
            .observe(document.querySelector('main'), {subtree: true, childList: true})""")
    page.get_by_label("Ask about what you told me").fill("Where is the spare key?")
    page.get_by_role("button", name="Ask").click()
    link = page.locator("a.citation", has_text="blue pot")
    link.wait_for()
    expect(page.locator(".answer")).to_have_text(
        "The spare key is under the blue pot by the back door [1].")
    assert page.evaluate("window.updates") >= 10  # a change per token, not one at the end
    tab.shot("ask")
    link.click()
    page.locator("main li.memory", has_text="blue pot").wait_for()

    page.goto(url + "/#ask")  # an answer without a marker lists the memories it was given
    llm.enqueue("You told me where it is.")
    page.get_by_label("Ask about what you told me").fill("Where is the spare key?")
    page.get_by_role("button", name="Ask").click()
    expect(page.get_by_role("list", name="Memories it read")).to_contain_text("blue pot")

    page.get_by_label("Ask about what you told me").fill("What is my cat's name?")
    page.get_by_role("button", name="Ask").click()
    page.locator(".known", has_text="I don't know").wait_for()
    assert not tab.errors


def test_a_two_turn_chat_streams_and_is_kept(tab, scripted):
    url, llm = scripted
    llm.enqueue("Congratulations on Miso! How is the cat settling in?",
                "Your cat is called Miso.")
    page = tab.go(url + "/#chat")
    page.get_by_label("Message", exact=True).fill("I adopted a cat called Miso today.")
    page.get_by_role("button", name="Send").click()
    replies = page.locator(".msg.assistant .body")
    page.wait_for_function("document.querySelectorAll('.msg.assistant .body')[0]?.textContent")
    page.get_by_label("Message", exact=True).fill("What is my cat called?")
    page.get_by_role("button", name="Send").click()
    page.wait_for_function("document.querySelectorAll('.msg.assistant .body')[1]?.textContent")
    expect(replies).to_have_count(2)
    expect(replies.nth(1)).to_have_text("Your cat is called Miso.")
    tab.shot("chat")
    conversations = httpx.get(url + "/api/conversations").json()["conversations"]
    assert len(conversations) == 1
    page.reload()
    page.locator("button.conv").first.click()
    page.wait_for_function("document.querySelectorAll('.msg').length === 4")
    page.get_by_role("button", name="Delete conversation").click()
    page.wait_for_function("document.querySelectorAll('.msg').length === 0")
    assert httpx.get(url + "/api/conversations").json()["total"] == 0
    assert not tab.errors


def test_chat_picks_an_agent_and_loads_older_messages_on_scroll(tab, tmp_path):
    agents = tmp_path / "agents.yaml"
    agents.write_text("agents:\n  coach:\n    persona: A patient running coach.\n")
    with serve(tmp_path, agents_file=agents) as base:
        conversation = None
        for n in range(17):
            reply = httpx.post(base + "/api/chat", json={
                "message": f"Training log {n}: ran {n + 3} km.", "stream": False,
                "conversation_id": conversation}).json()
            conversation = reply["conversation_id"]
        page = tab.go(base + "/#chat")
        page.get_by_label("Agent for a new conversation").select_option("coach")
        page.get_by_label("Message", exact=True).fill("Plan my week, coach.")
        page.get_by_role("button", name="Send").click()
        page.wait_for_function("document.querySelectorAll('.msg.assistant .body')[0]?.textContent")
        listed = httpx.get(base + "/api/conversations").json()["conversations"]
        assert sorted(str(c["agent"]) for c in listed) == ["None", "coach"]

        page.locator("button.conv").nth(1).click()
        messages = page.locator(".messages .msg")
        expect(messages).to_have_count(30)
        page.locator(".messages").evaluate("box => { box.scrollTop = 0; }")
        expect(messages).to_have_count(34)
        expect(messages.first).to_contain_text("Training log 0")
    assert not tab.errors


def test_the_timeline_plots_each_message_and_counts_emotions(tab, url):
    for message in ("I am so happy, I passed the exam!", "The train was late again."):
        httpx.post(url + "/api/chat", json={"message": message, "stream": False})
    page = tab.go(url + "/#timeline")
    page.locator("svg.timeline circle.point").nth(1).wait_for()
    expect(page.locator("svg.timeline circle.point")).to_have_count(2)
    assert re.search(r"\w+: \d", page.locator("ul.counts").inner_text())
    tab.shot("timeline")
    assert not tab.errors


def test_status_and_import_pages(tab, url, tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("# Garden\n\nThe roses by the gate were planted in 2019.\n")
    page = tab.go(url + "/#import")
    page.get_by_label("File", exact=True).set_input_files(str(notes))
    page.locator("p.card", has_text="imported").wait_for()
    with page.expect_download() as saved:
        page.get_by_role("button", name="Download all my memories").click()
    assert "roses by the gate" in Path(saved.value.path()).read_text()
    page.get_by_role("link", name="Status").click()
    page.locator(".memory-count").wait_for()
    expect(page.locator(".memory-count")).not_to_have_text("0")
    tab.shot("status")
    assert not tab.errors


def test_sign_in_keeps_each_persons_memories_apart(browser, tmp_path):
    people = {"alice": "correct horse battery", "bob": "staple tungsten blue"}
    app, port, keys = build(tmp_path, people, auth_enabled=True, access_token_ttl_s=2)
    with uvicorn_thread(app, port) as base:
        for name, secret in (("alice", "Alice's locker code is 1234."),
                             ("bob", "Bob's bike is green.")):
            context = browser.new_context(viewport={"width": 1100, "height": 800})
            tab = Tab(context.new_page(), tmp_path)
            page = tab.go(base + "/")
            if name == "alice":
                page.get_by_label("User name").fill(name)
                page.get_by_label("Password").fill(people[name])
                page.get_by_role("button", name="Sign in with password").click()
            else:
                page.get_by_label("API key").fill(keys[name])
                page.get_by_role("button", name="Sign in", exact=True).click()
            page.get_by_text(f"Signed in as {name}").wait_for()
            stored = page.evaluate("JSON.stringify(sessionStorage) + JSON.stringify(localStorage)")
            assert "access_token" in stored  # the tokens only: not the key, not the password
            assert keys[name] not in stored and people[name] not in stored
            page.get_by_label("What to remember").fill(secret)
            page.get_by_role("button", name="Add memory").click()
            page.locator("li.memory", has_text=secret).wait_for()
            expect(page.locator("li.memory")).to_have_count(1)  # never the other's
            if name == "alice":  # her access token expires: the app refreshes it
                page.wait_for_timeout(2200)
                with page.expect_request(lambda r: r.url.endswith("/auth/token")) as sent:
                    page.get_by_role("link", name="Memories").click()
                assert "refresh_token" in sent.value.post_data_json
            page.get_by_role("link", name="Search").click()
            page.get_by_label("Search your memories").fill("locker code bike")
            page.get_by_role("button", name="Search", exact=True).click()
            page.locator("p.summary", has_text="found").wait_for()
            expect(page.locator("li.memory")).to_have_count(1)
            expect(page.locator("li.memory")).to_contain_text(secret)
            page.get_by_role("button", name="Sign out").click()
            page.get_by_role("heading", name="Sign in").wait_for()
            assert page.evaluate("sessionStorage.length") == 0
            assert keys[name] not in page.content()
            assert not tab.errors
            context.close()


def test_errors_are_shown_in_words(tab, tmp_path):
    big = tmp_path / "big.md"
    big.write_text("A long note. " * 50)
    with serve(tmp_path / "small", max_import_bytes=100) as base:
        page = tab.go(base + "/#import")
        page.get_by_label("File", exact=True).set_input_files(str(big))
        expect(page.get_by_role("alert")).to_contain_text("big.md is too large")
    people = {"carol": "a long enough password"}
    with serve(tmp_path / "busy", people, auth_enabled=True, rate_limit_per_minute=4) as base:
        page = tab.go(base + "/")
        page.get_by_label("User name").fill("carol")
        page.get_by_label("Password").fill("a wrong password")
        page.get_by_role("button", name="Sign in with password").click()
        expect(page.get_by_role("alert")).to_contain_text("wrong user name or password")
        page.get_by_label("Password").fill(people["carol"])
        page.get_by_role("button", name="Sign in with password").click()
        for _ in range(3):
            page.get_by_role("link", name="Status").click()
            page.get_by_role("link", name="Memories").click()
        expect(page.get_by_role("alert")).to_contain_text(
            re.compile(r"Too many requests; try again in \d+ seconds"))
    assert all("status of 413" in e or "status of 401" in e or "status of 429" in e
               for e in tab.errors), tab.errors


def test_keyboard_alone_reaches_the_content_and_adds_a_memory(tab, url):
    page = tab.go(url + "/#memories")
    page.get_by_text("0 memories").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Memories"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # skip the navigation
    assert page.evaluate("document.activeElement.id") == "main"
    assert page.evaluate("location.hash") == "#memories"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "text"
    page.get_by_label("What to remember").focus()
    page.keyboard.type("The boiler was serviced in October.")
    for name in ("type", "occurred_at"):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.name") == name
    for _ in range(8):  # the date and time field has a stop per part
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "BUTTON":
            break
    assert page.evaluate("document.activeElement.textContent") == "Add memory"
    page.keyboard.press("Enter")
    page.locator("li.memory", has_text="boiler").wait_for()
    assert page.title() == "Memories · memlane"
    assert not tab.errors


UNNAMED = """[...document.querySelectorAll('input, select, textarea, button, a[href]')]
    .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') ||
                     el.textContent.trim()))
    .map((el) => el.outerHTML)"""


def test_a_phone_sized_screen(browser, url, shots):
    httpx.post(url + "/api/memories", json={"text": "Dentist on Thursday at 3 pm."})
    httpx.post(url + "/api/chat", json={"message": "I feel great today.", "stream": False})
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    tab = Tab(context.new_page(), shots)
    page = tab.go(url + "/#memories")
    page.locator("li.memory").first.wait_for()
    png = tab.shot("phone", full_page=False).read_bytes()
    assert int.from_bytes(png[16:20], "big") == 375  # the PNG's width
    for screen in ("memories", "search", "ask", "chat", "voice", "timeline", "import",
                   "status"):
        page.get_by_role("link", name=screen.capitalize()).click()
        page.wait_for_function("document.title.endsWith('· memlane') && "
                               f"location.hash === '#{screen}'")
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{screen} scrolls sideways ({width} px)"
        assert not page.evaluate(UNNAMED), f"{screen} has controls without a name"
    assert not tab.errors
    context.close()


@pytest.mark.integration
def test_a_voice_note_recorded_in_the_browser_becomes_a_memory(playwright, tmp_path, shots,
                                                               whisper_dir):
    """Chromium's fake microphone plays a sentence spoken by espeak-ng (again for each
    recording); Whisper (the one real model here) hears it through MediaRecorder's
    WebM/Opus: a voice note on /ws/memory, then a push-to-talk turn on /ws/voice."""
    from voice_support import espeak
    spoken = tmp_path / "spoken.wav"
    spoken.write_bytes(espeak("My passport is in the top drawer of the desk.", tmp_path / "speech"))
    wav = tmp_path / "note.wav"  # 2 s of silence before the loop starts again
    subprocess.run(["sox", str(spoken), str(wav), "pad", "0", "2"], check=True)
    models = tmp_path / "web" / "models"
    models.mkdir(parents=True)
    (models / "whisper-base").symlink_to(whisper_dir)
    with serve(tmp_path, stt="whisper", vad="silero", tts="tone") as base:
        chromium = launch(playwright, "--use-fake-device-for-media-stream",
                          "--use-fake-ui-for-media-stream",
                          f"--use-file-for-fake-audio-capture={wav}")
        tab = Tab(chromium.new_page(), shots)
        page = tab.go(base + "/#voice")
        page.get_by_role("button", name="Record a voice note").click()
        expect(page.locator(".transcript")).to_contain_text("desk", timeout=30_000)
        page.get_by_role("button", name="Stop and save").click()
        expect(page.locator(".committed")).to_contain_text("passport", timeout=30_000)
        memories = httpx.get(base + "/api/memories").json()["memories"]
        assert len(memories) == 1 and memories[0]["source"] == "voice"
        assert "passport" in memories[0]["text"].lower()

        talk = page.get_by_role("region", name="Voice chat")
        talk.get_by_role("button", name="Hold to talk").hover()
        page.mouse.down()
        page.wait_for_timeout(4000)
        page.mouse.up()
        expect(talk.locator(".msg.user")).to_contain_text("passport", timeout=30_000)
        expect(talk.locator(".msg.assistant")).not_to_be_empty(timeout=30_000)
        tab.shot("voice")
        assert not tab.errors
        chromium.close()


@pytest.fixture(scope="module")
def whisper_dir() -> Path:
    """Where the test data keeps Whisper base (read before clean_environ strips MEMLANE_*)."""
    import os
    import sys
    default = Path(sys.prefix) / "memlane-test-data"
    return Path(os.environ.get("MEMLANE_TEST_MODELS_DIR") or default) / "models" / "whisper-base"


def test_the_hand_written_protobuf_matches_the_generated_code(tab, url):
    """The voice note's codec (app/js/proto.js) against memlane_pb2."""
    from memlane.proto import memlane_pb2 as pb
    page = tab.go(url + "/#status")
    sent = page.evaluate("""async () => {
        const { clientMessage } = await import('/app/js/proto.js');
        const bytes = [clientMessage('auth', { api_key: 'ml_secret' }),
          clientMessage('audio', { data: new Uint8Array(300).fill(7), encoding: 4 }, 'r1'),
          clientMessage('text', { text: 'Grüße 👋' }),
          clientMessage('commit', { type: 'episodic', client_id: 'c-1' }, 'r2')];
        return bytes.map((b) => Array.from(b));
    }""")
    auth, audio, text, commit = (pb.ClientMessage.FromString(bytes(b)) for b in sent)
    assert auth.auth.api_key == "ml_secret"
    assert audio.request_id == "r1" and audio.audio.data == bytes([7] * 300)
    assert audio.audio.encoding == pb.WEBM_OPUS
    assert text.text.text == "Grüße 👋"
    assert commit.commit.type == "episodic" and commit.commit.client_id == "c-1"

    replies = [pb.ServerMessage(ready=pb.Ready(protocol="memlane.v1", user_id="u")),
               pb.ServerMessage(request_id="r2", committed=pb.Committed(
                   memory_id="m1", created=True, text="Ich bin müde.", importance=0.5,
                   emotion=pb.Emotion(label="sadness", confidence=0.75, source="fused"))),
               pb.ServerMessage(transcript=pb.Transcript(text="hello", final=True,
                                                         utterance=300)),
               pb.ServerMessage(error=pb.Error(status=429, code="rate_limited",
                                               message="wait"))]
    decoded = page.evaluate("""async (messages) => {
        const { serverMessage } = await import('/app/js/proto.js');
        return messages.map((m) => serverMessage(new Uint8Array(m).buffer));
    }""", [list(m.SerializeToString()) for m in replies])
    assert [d["kind"] for d in decoded] == ["ready", "committed", "transcript", "error"]
    assert decoded[1]["request_id"] == "r2"
    assert decoded[1]["body"] == {"memory_id": "m1", "created": True, "text": "Ich bin müde.",
                                  "importance": 0.5, "emotion": {
                                      "label": "sadness", "confidence": 0.75,
                                      "source": "fused"}}
    assert decoded[2]["body"]["final"] and decoded[2]["body"]["utterance"] == 300
    assert decoded[3]["body"] == {"status": 429, "code": "rate_limited", "message": "wait"}
    assert not tab.errors

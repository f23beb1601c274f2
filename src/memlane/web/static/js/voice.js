// Voice: a voice note (MediaRecorder → /ws/memory, protobuf) whose transcript appears while
// you speak and becomes a memory on Stop; and push-to-talk voice chat over /ws/voice, whose
// reply plays sentence by sentence.
import { fresh } from "./api.js";
import { clientMessage, serverMessage } from "./proto.js";
import { TYPES, field, h, select, showError, clearError } from "./ui.js";

const WEBM = 4;

function socket(path) {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  return ws;
}

async function microphone() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const mime = ["audio/webm;codecs=opus", "audio/webm"].find((m) => MediaRecorder.isTypeSupported(m));
  return new MediaRecorder(stream, mime ? { mimeType: mime } : {});
}

function stopTracks(recorder) {
  recorder?.stream.getTracks().forEach((t) => t.stop());
}

export function render(main) {
  const note = voiceNote();
  const talk = pushToTalk();
  main.append(h("h2", {}, "Voice"), note.view, talk.view);
  return () => { note.leave(); talk.leave(); };
}

function voiceNote() {
  const type = select("type", TYPES.map((t) => [t, t]));
  const button = h("button", { type: "button", "aria-pressed": "false" }, "Record a voice note");
  const live = h("p", { class: "transcript", "aria-live": "polite" });
  const saved = h("div", { "aria-live": "polite" });
  let ws = null, recorder = null, finals = [];

  async function start() {
    clearError();
    finals = [];
    live.textContent = "";
    saved.replaceChildren();
    try {
      recorder = await microphone();
    } catch (error) {
      showError(`The microphone is not available: ${error.message}`);
      return;
    }
    const token = await fresh();
    ws = socket("/ws/memory");
    ws.onopen = () => {
      if (token) ws.send(clientMessage("auth", { api_key: token }));
      recorder.ondataavailable = (e) => e.data.size && e.data.arrayBuffer().then((data) => {
        if (ws.readyState === WebSocket.OPEN) {
          ws.send(clientMessage("audio", { data: new Uint8Array(data), encoding: WEBM }));
        }
      });
      recorder.onstop = () => setTimeout(() => ws.send(clientMessage("commit", { type: type.value },
        "commit")), 50);
      recorder.start(250);
    };
    ws.onmessage = (e) => receive(serverMessage(e.data));
    ws.onerror = () => showError("The voice connection failed.");
    button.textContent = "Stop and save";
    button.setAttribute("aria-pressed", "true");
  }

  function receive({ kind, body }) {
    if (kind === "transcript") {
      if (body.final) finals.push(body.text);
      live.textContent = [...finals, body.final ? "" : body.text].join(" ").trim();
    } else if (kind === "committed") {
      saved.replaceChildren(h("p", { class: "card committed" }, "Saved: ",
        h("a", { href: `#memory?${body.memory_id}` }, body.text),
        body.emotion.label ? ` (${body.emotion.label})` : ""));
      ws.close();
    } else if (kind === "error") {
      showError(body.status === 429 ? `Too many requests: ${body.message}` : body.message);
    }
  }

  function stop() {
    button.textContent = "Record a voice note";
    button.setAttribute("aria-pressed", "false");
    recorder?.stop();
    stopTracks(recorder);
    recorder = null;
  }

  button.addEventListener("click", () => (recorder ? stop() : start()));
  const view = h("section", { class: "card", "aria-label": "Voice note" },
    h("h3", {}, "Voice note"), h("p", {}, "Speak; what you say is kept as one memory."),
    h("div", { class: "row" }, field("Type", type), button), live, saved);
  return { view, leave: () => { stop(); ws?.close(); } };
}

function pushToTalk() {
  const button = h("button", { type: "button" }, "Hold to talk");
  const state = h("p", { class: "meta", "aria-live": "polite" }, "");
  const log = h("div", { class: "messages", role: "log", "aria-label": "Voice chat" });
  const queue = [];
  let ws = null, recorder = null, playing = false, held = false;

  async function connect() {
    if (ws && ws.readyState === WebSocket.OPEN) return;
    const token = await fresh();
    ws = socket("/ws/voice");
    ws.onmessage = (e) => (typeof e.data === "string" ? receive(JSON.parse(e.data)) : play(e.data));
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error("The voice chat connection failed."));
    });
    if (token) ws.send(JSON.stringify({ type: "auth", api_key: token }));
  }

  function receive(message) {
    if (message.type === "status") state.textContent = message.state;
    else if (message.type === "transcript") log.append(h("div", { class: "msg user" }, message.text));
    else if (message.type === "reply" && message.final) log.append(h("div", { class: "msg assistant" }, message.text));
    else if (message.type === "error") showError(message.message);
  }

  function play(wav) {
    queue.push(new Blob([wav], { type: "audio/wav" }));
    if (!playing) next();
  }

  function next() {
    const blob = queue.shift();
    playing = Boolean(blob);
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    const audio = new Audio(url);
    audio.onended = () => { URL.revokeObjectURL(url); next(); };
    audio.play().catch(audio.onended);
  }

  async function down() {
    if (held) return;
    held = true;
    clearError();
    try {
      await connect();
      recorder = await microphone();
    } catch (error) {
      held = false;
      showError(`Voice chat is not available: ${error.message}`);
      return;
    }
    recorder.ondataavailable = (e) => e.data.size && e.data.arrayBuffer().then((d) => ws.send(d));
    recorder.onstop = () => setTimeout(() => ws.send(JSON.stringify({ type: "end" })), 50);
    recorder.start(250);
    button.textContent = "Listening… release to send";
    if (!held) up(true);
  }

  function up(force = false) {
    if (!held && !force) return;
    held = false;
    if (!recorder) return;
    recorder.stop();
    stopTracks(recorder);
    recorder = null;
    button.textContent = "Hold to talk";
  }

  button.addEventListener("pointerdown", down);
  button.addEventListener("pointerup", () => up());
  button.addEventListener("pointerleave", () => up());
  button.addEventListener("keydown", (e) => { if (e.key === " " && !e.repeat) { e.preventDefault(); down(); } });
  button.addEventListener("keyup", (e) => { if (e.key === " ") up(); });
  button.addEventListener("click", (e) => e.preventDefault());
  const view = h("section", { class: "card", "aria-label": "Voice chat" },
    h("h3", {}, "Talk with memlane"), h("p", {}, "Hold the button (or the space bar) while you speak."),
    button, state, log);
  return { view, leave: () => { up(); ws?.close(); } };
}

// Chat: the conversation list, a new conversation (with an agent when several exist),
// streamed replies, history that loads more on scroll, delete.
import { api, stream } from "./api.js";
import { field, guarded, h, select, toast, when } from "./ui.js";

const STEP = 30;

export async function render(main) {
  const state = { id: null, limit: STEP, controller: null };
  const convs = h("ul", { class: "list", "aria-label": "Conversations" });
  const agent = select("agent", [["", "default"]]);
  const title = h("h3", {}, "New conversation");
  const messages = h("div", { class: "messages", role: "log", "aria-label": "Messages" });
  const input = h("textarea", { name: "message", rows: 2, required: true });
  const sendButton = h("button", {}, "Send");
  const del = h("button", { type: "button", class: "danger", hidden: true, onclick: remove },
    "Delete conversation");

  async function loadList() {
    const data = await guarded(() => api("/api/conversations?limit=100"));
    convs.replaceChildren(...(data?.conversations || []).map((c) => h("li", {},
      h("button", { type: "button", class: "quiet conv", "aria-current": String(c.id === state.id),
        onclick: () => open(c.id) }, c.title || when(c.created_at)))));
  }

  async function open(id, keepScroll = false) {
    if (id !== state.id) {
      state.controller?.abort();
      state.limit = STEP;
    }
    state.id = id;
    del.hidden = !id;
    if (!id) {
      title.textContent = "New conversation";
      messages.replaceChildren();
      return loadList();
    }
    const data = await guarded(() => api(`/api/conversations/${id}?limit=${state.limit}`));
    if (!data) return;
    const before = messages.scrollHeight - messages.scrollTop;
    title.textContent = data.conversation.title || `Conversation of ${when(data.conversation.created_at)}`;
    messages.replaceChildren(...data.messages.map((m) => bubble(m.role, m.content)));
    messages.scrollTop = keepScroll ? messages.scrollHeight - before : messages.scrollHeight;
    state.full = data.messages.length < state.limit;
    await loadList();
  }

  messages.addEventListener("scroll", () => {
    if (messages.scrollTop === 0 && state.id && !state.full) {
      state.limit += STEP;
      open(state.id, true);
    }
  });

  async function send(event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || sendButton.disabled) return;
    input.value = "";
    if (!state.id && agent.value) {
      const made = await guarded(() => api("/api/conversations",
        { method: "POST", body: { agent: agent.value } }));
      if (!made) return;
      state.id = made.id;
    }
    sendButton.disabled = true;
    messages.append(bubble("user", text));
    const bubbleOut = bubble("assistant", "");
    const reply = bubbleOut.querySelector(".body");
    messages.append(bubbleOut);
    state.controller = new AbortController();
    const body = { message: text, conversation_id: state.id };
    await guarded(() => stream("/api/chat", body, (name, data) => {
      if (name === "contexts" && data.conversation_id) state.id = data.conversation_id;
      else if (name === "token") reply.textContent += data.text;
      else if (name === "done") reply.textContent = data.answer;
      else if (name === "error") throw new Error(data.detail);
      messages.scrollTop = messages.scrollHeight;
    }, state.controller.signal));
    sendButton.disabled = false;
    del.hidden = !state.id;
    if (state.id && title.textContent === "New conversation") {
      title.textContent = `Conversation of ${when(new Date().toISOString())}`;
    }
    await loadList();
    input.focus();
  }

  async function remove() {
    if (!state.id) return;
    const ok = await guarded(async () => {
      await api(`/api/conversations/${state.id}`, { method: "DELETE" });
      return true;
    });
    if (ok) {
      toast("Conversation deleted.");
      await open(null);
    }
  }

  const agents = await guarded(() => api("/api/agents"));
  const names = (agents?.agents || []).map((a) => a.name).filter((n) => n !== "default" && n !== "voice");
  agent.append(...names.map((n) => h("option", { value: n }, n)));
  main.append(h("h2", {}, "Chat"), h("div", { class: "chat" },
    h("aside", { "aria-label": "Conversation list" },
      h("button", { type: "button", onclick: () => open(null) }, "New conversation"),
      names.length ? field("Agent for a new conversation", agent) : null, convs),
    h("section", { "aria-label": "Conversation" }, title, messages,
      h("form", { class: "row", onsubmit: send },
        h("div", { class: "grow" }, field("Message", input)), sendButton),
      h("p", {}, del))));
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) send(e);
  });
  await loadList();
  input.focus();
  return () => state.controller?.abort();
}

function bubble(role, text) {
  const who = role === "user" ? "You" : "memlane";
  return h("div", { class: `msg ${role}` }, h("span", { class: "sr" }, `${who}: `),
    h("span", { class: "body" }, text));
}

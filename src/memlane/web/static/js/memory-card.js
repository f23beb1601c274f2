// One memory as a card: edit in place, delete with undo, history, restore a superseded one.
import { api } from "./api.js";
import { TYPES, field, guarded, h, isoOf, localInput, select, toast, when } from "./ui.js";

export function memoryCard(memory, reload, textNodes) {
  const card = h("li", { class: `card memory${memory.valid_until ? " superseded" : ""}`,
    "data-id": memory.id });
  const body = h("p", { class: "text" }, ...(textNodes || [memory.text]));
  const history = h("div", { class: "history" });
  const actions = h("div", { class: "actions" },
    h("button", { type: "button", class: "quiet", onclick: () => edit() }, "Edit"),
    h("button", { type: "button", class: "quiet", "aria-expanded": "false",
      onclick: (e) => toggleHistory(e.currentTarget) }, "History"),
    memory.valid_until ? h("button", { type: "button", class: "quiet", onclick: restore },
      "Restore this version") : null,
    h("button", { type: "button", class: "danger", onclick: remove }, "Delete"));
  card.append(body, meta(memory), actions, history);

  function edit() {
    const text = h("textarea", { name: "text", rows: 3 }, memory.text);
    const type = select("type", TYPES.map((t) => [t, t]), memory.type);
    const occurred = h("input", { type: "datetime-local", name: "occurred_at",
      value: localInput(memory.occurred_at) });
    const form = h("form", { "aria-label": "Edit memory", onsubmit: async (e) => {
      e.preventDefault();
      const patch = { text: text.value, type: type.value };
      if (occurred.value) patch.occurred_at = isoOf(occurred.value);
      const saved = await guarded(() => api(`/api/memories/${memory.id}`,
        { method: "PATCH", body: patch }));
      if (saved) card.replaceWith(memoryCard(saved, reload));
    } },
    field("Text", text),
    h("div", { class: "row" }, field("Type", type), field("When it happened", occurred),
      h("button", {}, "Save"),
      h("button", { type: "button", class: "quiet",
        onclick: () => card.replaceWith(memoryCard(memory, reload)) }, "Cancel")));
    card.replaceChildren(form);
    text.focus();
  }

  async function toggleHistory(button) {
    const open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", String(!open));
    history.replaceChildren();
    if (open) return;
    const entries = await guarded(() => api(`/api/memories/${memory.id}/history`));
    history.append(h("ol", { class: "meta" }, (entries || []).map((e) => h("li", {},
      `${when(e.created_at)} · ${e.event} by ${e.actor}`,
      e.old_text ? h("div", {}, h("s", {}, e.old_text)) : null,
      e.new_text ? h("div", {}, e.new_text) : null))));
  }

  async function restore() {
    if (await guarded(() => api(`/api/memories/${memory.id}/restore`, { method: "POST" }))) {
      toast("Restored.");
      reload();
    }
  }

  async function remove() {
    const gone = await guarded(async () => {
      await api(`/api/memories/${memory.id}`, { method: "DELETE" });
      return true;
    });
    if (!gone) return;
    card.remove();
    toast("Memory deleted.", { label: "Undo", run: () => undo(memory, reload) });
  }
  return card;
}

async function undo(memory, reload) {
  const body = { text: memory.text, type: memory.type, source: memory.source,
    occurred_at: memory.occurred_at, metadata: memory.metadata, importance: memory.importance,
    confidence: memory.confidence, emotion: memory.emotion };
  if (await guarded(() => api("/api/memories", { method: "POST", body }))) reload();
}

function meta(memory) {
  return h("div", { class: "meta" },
    h("span", { class: "tag" }, memory.type),
    h("span", {}, memory.occurred_at ? `happened ${when(memory.occurred_at)}`
      : `added ${when(memory.created_at)}`),
    memory.emotion ? h("span", {}, `feeling: ${memory.emotion}`) : null,
    h("span", {}, `source: ${memory.source}`),
    memory.entities?.length ? h("span", {}, `mentions: ${memory.entities.join(", ")}`) : null,
    memory.valid_until ? h("span", {}, `superseded ${when(memory.valid_until)}`) : null);
}

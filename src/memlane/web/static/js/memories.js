// Memories: add, browse newest first (more load on scroll), filter, edit, delete with undo,
// history and superseded versions.
import { api } from "./api.js";
import { memoryCard } from "./memory-card.js";
import { EMOTIONS, TYPES, field, guarded, h, isoOf, select } from "./ui.js";

const PAGE = 20;

export async function render(main) {
  const state = { offset: 0, total: null, filters: {}, busy: false };
  const list = h("ul", { class: "list", "aria-label": "Memories" });
  const count = h("p", { class: "meta", "aria-live": "polite" });
  const more = h("button", { type: "button", class: "quiet", onclick: () => page() }, "Load more");
  const sentinel = h("div", { "aria-hidden": "true" });

  // The API filters all but the emotion: that filter skips pages with no match (up to 10).
  async function page() {
    if (state.busy || (state.total !== null && state.offset >= state.total)) return;
    state.busy = true;
    await guarded(async () => {
      for (let tries = 0, shown = 0; !shown && tries < 10; tries++) {
        const data = await api(`/api/memories?${query(state.filters, state.offset)}`);
        state.total = data.total;
        state.offset += data.memories.length;
        const wanted = state.filters.emotion;
        const cards = data.memories.filter((m) => !wanted || m.emotion === wanted)
          .map((m) => memoryCard(m, reload));
        list.append(...cards);
        shown = cards.length || state.offset >= state.total;
      }
    });
    state.busy = false;
    more.hidden = state.offset >= state.total;
    const total = state.total ?? 0;
    count.textContent = `${total} ${total === 1 ? "memory" : "memories"}` +
      (state.filters.emotion ? " before the emotion filter" : "");
  }

  function reload(filters = state.filters) {
    Object.assign(state, { offset: 0, total: null, filters });
    list.replaceChildren();
    return page();
  }

  main.append(h("h2", {}, "Memories"), addForm(reload), filterForm(reload), count, list, more,
    sentinel);
  await reload({});
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && state.total !== null) page();
  });
  observer.observe(sentinel);
  return () => observer.disconnect();
}

function query(filters, offset) {
  const params = new URLSearchParams({ limit: PAGE, offset });
  if (filters.type) params.append("type", filters.type);
  if (filters.since) params.set("since", filters.since);
  if (filters.until) params.set("until", filters.until);
  if (filters.entity) params.set("entity", filters.entity);
  if (filters.superseded) params.set("include_superseded", "true");
  return params;
}

function addForm(reload) {
  const text = h("textarea", { name: "text", required: true, rows: 3 });
  const type = select("type", TYPES.map((t) => [t, t]));
  const occurred = h("input", { type: "datetime-local", name: "occurred_at" });
  const form = h("form", { class: "card", "aria-label": "Add a memory", onsubmit: async (e) => {
    e.preventDefault();
    const body = { text: text.value, type: type.value, occurred_at: isoOf(occurred.value) };
    const saved = await guarded(() => api("/api/memories", { method: "POST", body }));
    if (saved) {
      form.reset();
      await reload();
    }
  } },
  h("h3", {}, "Remember something"),
  field("What to remember", text),
  h("div", { class: "row" }, field("Type", type), field("When it happened (optional)", occurred),
    h("button", {}, "Add memory")));
  return form;
}

function filterForm(reload) {
  const type = select("type", [["", "any type"], ...TYPES.map((t) => [t, t])]);
  const since = h("input", { type: "date", name: "since" });
  const until = h("input", { type: "date", name: "until" });
  const emotion = select("emotion", [["", "any emotion"], ...EMOTIONS.map((e) => [e, e])]);
  const entity = h("input", { type: "text", name: "entity", list: "entities" });
  const options = h("datalist", { id: "entities" });
  const superseded = h("input", { type: "checkbox", name: "superseded" });
  guarded(async () => {
    const data = await api("/api/entities?limit=200");
    options.append(...data.entities.map((e) => h("option", { value: e.name })));
  });
  const form = h("form", { class: "row", "aria-label": "Filter memories", onsubmit: (e) => {
    e.preventDefault();
    reload({ type: type.value, emotion: emotion.value, entity: entity.value.trim(),
      since: since.value ? isoOf(`${since.value}T00:00`) : "",
      until: until.value ? isoOf(`${until.value}T23:59:59`) : "",
      superseded: superseded.checked });
  } },
  field("Type", type), field("From", since), field("To", until), field("Emotion", emotion),
  field("Mentions", entity), options,
  h("label", { class: "row" }, superseded, "Show superseded versions"),
  h("button", {}, "Filter"));
  return h("details", { class: "card filters" }, h("summary", {}, "Filters"), form);
}

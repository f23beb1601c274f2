// Search: hybrid search with the matches highlighted and why each memory was found.
import { api } from "./api.js";
import { memoryCard } from "./memory-card.js";
import { TYPES, field, guarded, h, highlight, select } from "./ui.js";

export function render(main) {
  const query = h("input", { type: "search", name: "query", required: true });
  const type = select("type", [["", "any type"], ...TYPES.map((t) => [t, t])]);
  const results = h("ul", { class: "list", "aria-label": "Search results" });
  const summary = h("p", { class: "meta summary", "aria-live": "polite" });

  async function run(event) {
    event?.preventDefault();
    const body = { query: query.value, limit: 20, explain: true };
    if (type.value) body.types = [type.value];
    const data = await guarded(() => api("/api/search", { method: "POST", body }));
    if (!data) return;
    results.replaceChildren(...data.results.map((r) => result(r, query.value, run)));
    summary.textContent = data.results.length ? `${data.results.length} found`
      : "Nothing found.";
  }

  main.append(h("h2", {}, "Search"),
    h("form", { class: "row card", role: "search", onsubmit: run },
      h("div", { class: "grow" }, field("Search your memories", query)), field("Type", type),
      h("button", {}, "Search")),
    summary, results);
  query.focus();
}

function result(found, query, rerun) {
  const card = memoryCard(found.memory, rerun, highlight(found.memory.text, query));
  card.insertBefore(reasons(found), card.querySelector(".actions"));
  return card;
}

function reasons({ score, reasons: why }) {
  const signals = Object.entries(why?.signals || {})
    .filter(([, v]) => typeof v === "number" && v > 0)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`);
  return h("p", { class: "meta reasons" },
    h("span", {}, `score ${score.toFixed(2)}`),
    why?.strategies ? h("span", {}, `found by ${why.strategies.join(", ")}`) : null,
    signals.length ? h("span", {}, signals.join(" · ")) : null);
}

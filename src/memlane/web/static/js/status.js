// Status: the server's health (database, models, job queue, sessions) and your memory count.
import { api } from "./api.js";
import { guarded, h } from "./ui.js";

export async function render(main) {
  main.append(h("h2", {}, "Status"));
  const [health, page] = await Promise.all([guarded(() => api("/api/health")),
    guarded(() => api("/api/memories?limit=1"))]);
  if (!health) return;
  const jobs = Object.entries(health.jobs || {}).map(([k, v]) => `${v} ${k}`).join(", ");
  main.append(h("dl", { class: "kv card" },
    row("Server", health.status === "ok" ? "ready" : health.status),
    row("Your memories", h("span", { class: "memory-count" }, String(page?.total ?? "?"))),
    row("Database", `${health.database?.kind}, ${health.database?.reachable ? "reachable" : "not reachable"}`),
    row("Background jobs", jobs || "none"),
    row("Active sessions", String(health.active_sessions ?? 0)),
    row("Up for", uptime(health.uptime_s || 0))),
  h("h3", {}, "Models"),
  h("div", { class: "card" }, h("table", { class: "models" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Part"), h("th", { scope: "col" }, "Model"),
      h("th", { scope: "col" }, "Loaded"))),
    h("tbody", {}, Object.entries(health.models || {}).map(([part, info]) => h("tr", {},
      h("th", { scope: "row" }, part), h("td", {}, info?.name || "—"),
      h("td", {}, info?.loaded ? "yes" : "no")))))));
}

function row(label, value) {
  return [h("dt", {}, label), h("dd", {}, value)];
}

function uptime(seconds) {
  const minutes = Math.floor(seconds / 60);
  return minutes < 1 ? `${Math.round(seconds)} s`
    : minutes < 120 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

// Status: the server's health report and how many memories you have.
import { api } from "./api.js";
import { guarded, h } from "./ui.js";

export async function render(main) {
  main.append(h("h2", {}, "Status"));
  const [health, page] = await Promise.all([guarded(() => api("/api/health")),
    guarded(() => api("/api/memories?limit=1"))]);
  if (!health) return;
  main.append(h("dl", { class: "kv card" },
    h("dt", {}, "Server"), h("dd", {}, health.status),
    h("dt", {}, "Your memories"), h("dd", { class: "memory-count" }, String(page?.total ?? "?")),
    ...Object.entries(health).filter(([k]) => k !== "status").flatMap(([k, v]) =>
      [h("dt", {}, k.replaceAll("_", " ")), h("dd", {}, describe(v))])));
}

function describe(value) {
  if (value === null || typeof value !== "object") return String(value);
  return h("ul", { class: "list" }, Object.entries(value).map(([k, v]) =>
    h("li", {}, `${k}: `, typeof v === "object" && v !== null ? JSON.stringify(v) : String(v))));
}

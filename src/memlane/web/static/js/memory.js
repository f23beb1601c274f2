// One memory, opened from a citation (#memory?<id>).
import { api } from "./api.js";
import { memoryCard } from "./memory-card.js";
import { guarded, h } from "./ui.js";

export async function render(main) {
  const id = decodeURIComponent(location.hash.split("?")[1] || "");
  main.append(h("h2", {}, "Memory"));
  const memory = await guarded(() => api(`/api/memories/${encodeURIComponent(id)}`));
  if (memory) {
    main.append(h("ul", { class: "list" },
      memoryCard(memory, () => { location.hash = "#memories"; })));
  }
  main.append(h("p", {}, h("a", { href: "#memories" }, "All memories")));
}

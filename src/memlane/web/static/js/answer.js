// Renders a streamed answer: tokens as they come, then the cited memories as links.
import { h, when } from "./ui.js";

export function answerView() {
  const text = h("div", { class: "answer", "aria-live": "polite" });
  const cited = h("ul", { class: "list citations", "aria-label": "Cited memories" });
  const view = h("div", { class: "card" }, text, cited);
  let contexts = [];
  return {
    view,
    on(name, data) {
      if (name === "contexts") contexts = data.contexts;
      else if (name === "token") text.textContent += data.text;
      else if (name === "done") finish(data);
      else if (name === "error") throw new Error(data.detail);
    },
  };

  function finish(done) {
    text.textContent = done.answer;
    if (!done.known) {
      view.classList.add("unknown");
      view.prepend(h("p", { class: "meta known" }, "I don't know: nothing you told me answers this."));
    }
    const byId = new Map(contexts.map((c) => [c.memory_id, c]));
    const ids = done.citations.length || !done.known ? done.citations
      : contexts.map((c) => c.memory_id);  // no marker in the answer: what it was given
    cited.setAttribute("aria-label", done.citations.length ? "Cited memories" : "Memories it read");
    cited.replaceChildren(...ids.map((id) => citation(id, byId.get(id))));
  }
}

function citation(id, context) {
  return h("li", {}, h("a", { href: `#memory?${id}`, class: "citation", "data-id": id },
    context ? `[${context.ref}] ${context.text}` : id),
  context?.when ? h("span", { class: "meta" }, ` ${when(context.when)}`) : null);
}

// Ask: a question answered from your memories, streamed token by token, with citations.
import { stream } from "./api.js";
import { answerView } from "./answer.js";
import { field, guarded, h } from "./ui.js";

export function render(main) {
  const question = h("input", { type: "text", name: "question", required: true });
  const out = h("div", {});
  let controller = null;
  const form = h("form", { class: "row card", onsubmit: async (e) => {
    e.preventDefault();
    controller?.abort();
    controller = new AbortController();
    const answer = answerView();
    out.replaceChildren(answer.view);
    await guarded(() => stream("/api/ask", { question: question.value }, answer.on,
      controller.signal));
  } },
  h("div", { class: "grow" }, field("Ask about what you told me", question)),
  h("button", {}, "Ask"));
  main.append(h("h2", {}, "Ask"), form, out);
  question.focus();
  return () => controller?.abort();
}

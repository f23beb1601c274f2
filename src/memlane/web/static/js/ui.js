// Small DOM helpers shared by the screens.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

let ids = 0;
export function field(label, control) {
  control.id ||= `f${++ids}`;
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control);
}

export function select(name, options, value = "") {
  return h("select", { name },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
}

export const TYPES = ["semantic", "episodic", "profile", "procedural"];
export const EMOTIONS = ["joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral"];

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

export function localInput(iso) {  // ISO → the value of <input type="datetime-local">
  if (!iso) return "";
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

export function isoOf(local) {
  return local ? new Date(local).toISOString() : null;
}

export function showError(error) {
  const box = document.getElementById("alert");
  box.textContent = error?.message || String(error);
  box.hidden = false;
}

export function clearError() {
  const box = document.getElementById("alert");
  box.hidden = true;
  box.textContent = "";
}

export async function guarded(work) {
  clearError();
  try {
    return await work();
  } catch (error) {
    if (error.name !== "AbortError") showError(error);
    return undefined;
  }
}

let toastTimer;
export function toast(message, action) {
  const box = document.getElementById("toast");
  box.replaceChildren(h("span", {}, message));
  if (action) {
    box.append(h("button", { type: "button", onclick: async () => {
      box.hidden = true;
      await action.run();
    } }, action.label));
  }
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 8000);
}

// Wrap each occurrence of the query's words in <mark>.
export function highlight(text, query) {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]{2,}/gu) || [];
  if (!words.length) return [text];
  const pattern = new RegExp(`(${words.map(escape).join("|")})`, "giu");
  return text.split(pattern).map((part, i) => (i % 2 ? h("mark", {}, part) : part));
}

function escape(word) {
  return word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

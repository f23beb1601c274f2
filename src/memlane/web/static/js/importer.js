// Import: drop a file (ChatGPT or Claude export, transcript, JSON lines, text, markdown)
// and it is sent to POST /api/import with upload progress.
import { download, fresh } from "./api.js";
import { field, guarded, h, showError, clearError } from "./ui.js";

export function render(main) {
  const input = h("input", { type: "file", name: "file" });
  const me = h("input", { type: "text", name: "me" });
  const progress = h("progress", { max: 100, value: 0, hidden: true, "aria-label": "Upload progress" });
  const result = h("div", { "aria-live": "polite" });
  const drop = h("div", { class: "drop", tabindex: 0, role: "button",
    "aria-label": "Drop a file here, or press Enter to choose one" },
  "Drop a file here, or choose one below");
  drop.addEventListener("click", () => input.click());
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") input.click(); });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]);
  });
  input.addEventListener("change", () => input.files[0] && upload(input.files[0]));

  async function upload(file) {
    clearError();
    const token = await fresh();
    const params = new URLSearchParams({ filename: file.name });
    if (me.value.trim()) params.set("me", me.value.trim());
    const xhr = new XMLHttpRequest();  // fetch reports no upload progress
    xhr.open("POST", `/api/import?${params}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    progress.hidden = false;
    progress.value = 0;
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) progress.value = (100 * e.loaded) / e.total; };
    xhr.onload = () => done(xhr, file);
    xhr.onerror = () => showError("The upload failed: is the server running?");
    result.textContent = `Importing ${file.name}…`;
    xhr.send(file);
  }

  function done(xhr, file) {
    progress.value = 100;
    let data = {};
    try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
    if (xhr.status !== 200) {
      result.textContent = "";
      const wait = xhr.getResponseHeader("Retry-After");
      showError(xhr.status === 413 ? `${file.name} is too large for the server: ${data.detail || ""}`
        : xhr.status === 429 ? `Too many requests; try again in ${wait || "a few"} seconds.`
        : xhr.status === 401 ? "Please sign in again."
        : `Import failed: ${data.detail || xhr.status}`);
      return;
    }
    result.replaceChildren(h("p", { class: "card" },
      `${file.name}: ${data.imported} imported, ${data.existing} already known`,
      data.conversations ? `, ${data.conversations} conversations` : "",
      data.errors?.length ? `, ${data.errors.length} could not be read` : "", "."));
  }

  const exportButton = h("button", { type: "button", class: "quiet", onclick: () => guarded(
    () => download("/api/memories/export", "memlane-export.jsonl")) }, "Download all my memories");
  main.append(h("h2", {}, "Import and export"),
    h("p", {}, "A ChatGPT or Claude export (conversations.json or the .zip), a chat transcript, ",
      "memlane JSON lines, or a text or markdown file. Importing the same file twice adds nothing."),
    drop, h("div", { class: "row card" }, field("File", input),
      field("Your name in a transcript (optional)", me)),
    progress, result,
    h("h3", {}, "Export"),
    h("p", {}, "Every memory you have, one JSON object a line; importing the file restores it."),
    exportButton);
}

// The shell: who is signed in, the navigation, and one screen at a time (by URL hash).
import { api, auth } from "./api.js";
import { renderSignIn } from "./signin.js";
import { clearError, guarded, h, showError } from "./ui.js";

const SCREENS = {
  memories: () => import("./memories.js"),
  search: () => import("./search.js"),
  ask: () => import("./ask.js"),
  chat: () => import("./chat.js"),
  voice: () => import("./voice.js"),
  timeline: () => import("./timeline.js"),
  import: () => import("./importer.js"),
  status: () => import("./status.js"),
  memory: () => import("./memory.js"),
};

let me = null;
let leave = null;
let authOn = null;
let turns = 0;  // a newer navigation wins over one still loading

async function whoAmI() {
  if (authOn === null) authOn = (await (await fetch("/app/config.json")).json()).auth_enabled;
  if (authOn && !auth.access) return null;
  try {
    return await api("/api/auth/me");
  } catch (error) {
    if (error.status === 401) return null;
    throw error;
  }
}

function showUser(user, withAuth) {
  const box = document.getElementById("who");
  box.replaceChildren();
  if (!user) return;
  box.append(h("span", {}, withAuth ? `Signed in as ${user.name}` : "Single-user mode"));
  if (withAuth) box.append(h("button", { type: "button", class: "quiet", onclick: signOut }, "Sign out"));
}

async function signOut() {
  await guarded(() => api("/api/auth/revoke", { method: "POST" }));
  auth.tokens = null;
  me = null;
  await route();
}

async function route() {
  const turn = ++turns;
  if (leave) leave();
  leave = null;
  clearError();
  const main = document.getElementById("main");
  const nav = document.getElementById("nav");
  me = me || await guarded(whoAmI);
  if (!me) {
    nav.hidden = true;
    showUser(null);
    renderSignIn(main, () => { me = null; route(); });
    return;
  }
  nav.hidden = false;
  showUser(me, authOn);
  const asked = location.hash.slice(1).split("?")[0];
  const name = SCREENS[asked] ? asked : "memories";
  const load = SCREENS[name];
  for (const link of nav.querySelectorAll("a")) {
    link.toggleAttribute("aria-current", link.getAttribute("href") === `#${name}`);
    if (link.hasAttribute("aria-current")) link.setAttribute("aria-current", "page");
  }
  const screen = await load();
  if (turn !== turns) return;
  main.replaceChildren();
  if (turn > 1) main.focus();  // after a navigation; a fresh page starts at the skip link
  leave = await screen.render(main) || null;
  document.title = `${main.querySelector("h2")?.textContent || name} · memlane`;
}

document.querySelector(".skip").addEventListener("click", (event) => {
  event.preventDefault();  // the hash names screens: focus the content instead
  document.getElementById("main").focus();
});
window.addEventListener("hashchange", route);
window.addEventListener("memlane:signed-out", async () => {
  if (!authOn || !me) return;
  me = null;
  await route();
  showError("Your session has ended: please sign in again.");
});
route();

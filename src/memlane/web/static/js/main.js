// The shell: who is signed in, the navigation, and one screen at a time (by URL hash).
import { api, auth } from "./api.js";
import { renderSignIn } from "./signin.js";
import { clearError, guarded, h } from "./ui.js";

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
  const name = location.hash.slice(1).split("?")[0] || "memories";
  const load = SCREENS[name] || SCREENS.memories;
  for (const link of nav.querySelectorAll("a")) {
    link.toggleAttribute("aria-current", link.getAttribute("href") === `#${name}`);
    if (link.hasAttribute("aria-current")) link.setAttribute("aria-current", "page");
  }
  main.replaceChildren();
  const screen = await load();
  leave = await screen.render(main) || null;
  main.focus();
}

window.addEventListener("hashchange", route);
route();

// Sign in with an API key, or a user name and password; the tokens go to sessionStorage.
import { signIn } from "./api.js";
import { field, guarded, h } from "./ui.js";

export function renderSignIn(main, done) {
  const key = h("input", { type: "password", name: "api_key", autocomplete: "off" });
  const user = h("input", { type: "text", name: "username", autocomplete: "username" });
  const password = h("input", { type: "password", name: "password",
    autocomplete: "current-password" });
  const byKey = h("form", { class: "card", onsubmit: (e) => submit(e, { api_key: key.value.trim() }) },
    h("h3", {}, "With an API key"), field("API key", key), h("p", {}, h("button", {}, "Sign in")));
  const byPassword = h("form", { class: "card", onsubmit: (e) => submit(e, {
    username: user.value.trim(), password: password.value }) },
  h("h3", {}, "With a user name and password"), field("User name", user),
  field("Password", password), h("p", {}, h("button", {}, "Sign in with password")));

  async function submit(event, credentials) {
    event.preventDefault();
    const ok = await guarded(async () => {
      try {
        await signIn(credentials);
      } catch (error) {
        if (error.status === 401) error.message = error.message.replace("Please sign in again", "Sign-in failed");
        throw error;
      }
      return true;
    });
    if (ok) done();
  }

  main.replaceChildren(h("h2", {}, "Sign in"),
    h("p", {}, "This server keeps each person's memories apart. Sign in to see yours."),
    byKey, byPassword);
  key.focus();
}

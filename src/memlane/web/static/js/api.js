// Calls to the REST API: the bearer token (kept in sessionStorage only), one refresh on 401,
// errors in words, and Server-Sent Events read from fetch.
const KEY = "memlane.tokens";

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

export const auth = {
  get tokens() { return JSON.parse(sessionStorage.getItem(KEY) || "null"); },
  set tokens(value) {
    if (value) sessionStorage.setItem(KEY, JSON.stringify(value));
    else sessionStorage.removeItem(KEY);
  },
  get access() { return this.tokens?.access_token || null; },
};

function headers(extra = {}) {
  const token = auth.access;
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

export async function signIn(credentials) {
  const response = await fetch("/api/auth/token", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(credentials),
  });
  if (!response.ok) throw await failure(response);
  const tokens = await response.json();
  auth.tokens = { ...tokens, expires_at: Date.now() + tokens.expires_in * 1000 };
}

// A refresh token works once: concurrent callers share one exchange.
let refreshing = null;
function refresh() {
  refreshing ||= exchange().finally(() => { refreshing = null; });
  return refreshing;
}

async function exchange() {
  const token = auth.tokens?.refresh_token;
  if (!token) return false;
  try {
    await signIn({ refresh_token: token });
    return true;
  } catch {
    auth.tokens = null;
    return false;
  }
}

// The access token, refreshed first when it is about to expire.
export async function fresh() {
  const tokens = auth.tokens;
  if (tokens && tokens.expires_at - Date.now() < Math.min(30_000, tokens.expires_in * 500)) {
    await refresh();
  }
  return auth.access;
}

async function send(path, options, retry = true) {
  await fresh();
  const response = await fetch(path, { ...options, headers: headers(options.headers) });
  if (response.status === 401 && retry && await refresh()) return send(path, options, false);
  if (response.status === 401 && auth.tokens === null) dispatchEvent(new Event("memlane:signed-out"));
  if (!response.ok) throw await failure(response);
  return response;
}

export async function api(path, { method = "GET", body } = {}) {
  const options = { method };
  if (body !== undefined) {
    options.body = JSON.stringify(body);
    options.headers = { "Content-Type": "application/json" };
  }
  const response = await send(path, options);
  return response.status === 204 ? null : response.json();
}

export async function failure(response) {
  let detail = "";
  try {
    const data = await response.json();
    detail = typeof data.detail === "string" ? data.detail
      : Array.isArray(data.detail) ? data.detail.map((d) => `${d.loc?.at(-1)}: ${d.msg}`).join("; ")
      : data.error?.message || "";
  } catch { /* not JSON */ }
  return new ApiError(response.status, explain(response, detail));
}

function explain(response, detail) {
  const status = response.status;
  if (status === 401) return `Please sign in again (${detail || "not signed in"}).`;
  if (status === 403) return `Not allowed: ${detail}`;
  if (status === 404) return `Not found: ${detail}`;
  if (status === 413) return `That is too large for the server: ${detail}`;
  if (status === 429) {
    const wait = response.headers.get("Retry-After");
    return `Too many requests; try again in ${wait || "a few"} seconds.`;
  }
  if (status >= 500) return "The server failed; please try again.";
  return detail || `Request failed (${status}).`;
}

// Save a response as a file (the request carries the bearer token, so no plain link).
export async function download(path, name) {
  const blob = await (await send(path, {})).blob();
  const link = Object.assign(document.createElement("a"),
    { href: URL.createObjectURL(blob), download: name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

// POST a JSON body and call onEvent(name, data) for each Server-Sent Event.
export async function stream(path, body, onEvent, signal) {
  const response = await send(path, {
    method: "POST", signal, body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replaceAll("\r\n", "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      dispatch(buffer.slice(0, end), onEvent);
      buffer = buffer.slice(end + 2);
    }
  }
}

function dispatch(block, onEvent) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
  }
  if (data.length) onEvent(name, JSON.parse(data.join("\n")));
}

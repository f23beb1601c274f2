// The few messages of proto/memlane.proto (memlane.v1) the voice note needs, encoded and
// decoded by hand: the protobuf wire format is varints and length-prefixed fields.
const text = new TextEncoder();
const untext = new TextDecoder();

function varint(n) {
  const out = [];
  while (n > 127) { out.push((n & 127) | 128); n = Math.floor(n / 128); }
  out.push(n);
  return out;
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function bytesField(no, bytes) {
  return concat([Uint8Array.from([...varint((no << 3) | 2), ...varint(bytes.length)]), bytes]);
}

function stringField(no, value) {
  return value ? bytesField(no, text.encode(value)) : new Uint8Array();
}

function intField(no, value) {
  return value ? Uint8Array.from([...varint(no << 3), ...varint(value)]) : new Uint8Array();
}

// ClientMessage bodies: auth, audio, text, commit.
export function clientMessage(kind, body = {}, requestId = "") {
  const inner = {
    auth: () => stringField(1, body.api_key),
    audio: () => concat([bytesField(1, body.data), intField(2, body.encoding || 0),
      intField(3, body.sample_rate || 0)]),
    text: () => stringField(1, body.text),
    commit: () => concat([stringField(1, body.type), stringField(3, body.client_id)]),
  }[kind]();
  const no = { auth: 2, audio: 3, text: 4, commit: 5 }[kind];
  return concat([stringField(1, requestId), bytesField(no, inner)]);
}

function fields(bytes) {  // field number → list of raw values
  const out = {};
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const read = () => {
    let n = 0, scale = 1, b;
    do { b = bytes[at++]; n += (b & 127) * scale; scale *= 128; } while (b & 128);
    return n;
  };
  while (at < bytes.length) {
    const key = read();
    const [no, wire] = [Math.floor(key / 8), key & 7];
    let value;
    if (wire === 0) value = read();
    else if (wire === 2) { const len = read(); value = bytes.subarray(at, at + len); at += len; }
    else if (wire === 5) { value = view.getFloat32(at, true); at += 4; }
    else if (wire === 1) { value = view.getFloat64(at, true); at += 8; }
    else throw new Error(`unknown wire type ${wire}`);
    (out[no] ||= []).push(value);
  }
  return out;
}

const str = (f, no) => (f[no] ? untext.decode(f[no][0]) : "");
const num = (f, no) => (f[no] ? f[no][0] : 0);

function emotion(raw) {
  const f = fields(raw || new Uint8Array());
  return { label: str(f, 1), confidence: num(f, 2), source: str(f, 3) };
}

const BODIES = {
  2: ["ready", (f) => ({ protocol: str(f, 1), user_id: str(f, 2) })],
  3: ["transcript", (f) => ({ text: str(f, 1), final: Boolean(num(f, 2)), utterance: num(f, 3),
    emotion: emotion(f[6]?.[0]) })],
  4: ["committed", (f) => ({ memory_id: str(f, 1), created: Boolean(num(f, 2)), text: str(f, 3),
    emotion: emotion(f[4]?.[0]), importance: num(f, 5) })],
  8: ["error", (f) => ({ status: num(f, 1), code: str(f, 2), message: str(f, 3) })],
  9: ["end", () => ({})],
};

// A ServerMessage as {request_id, kind, body} (kinds this client does not use: null).
export function serverMessage(buffer) {
  const f = fields(new Uint8Array(buffer));
  for (const [no, [kind, decode]] of Object.entries(BODIES)) {
    if (f[no]) return { request_id: str(f, 1), kind, body: decode(fields(f[no][0])) };
  }
  return { request_id: str(f, 1), kind: null, body: {} };
}

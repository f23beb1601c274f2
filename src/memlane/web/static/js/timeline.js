// The emotion timeline: each message's emotion over time (overall or one conversation) as an
// SVG chart, and a count per emotion.
import { api } from "./api.js";
import { EMOTIONS, field, guarded, h, select, when } from "./ui.js";

const NS = "http://www.w3.org/2000/svg";
const COLORS = { joy: "#b8860b", sadness: "#1f5fae", anger: "#b3261e", fear: "#6a3d9a",
  surprise: "#00796b", disgust: "#5d6d1e", neutral: "#555" };
const W = 720, ROW = 34, LEFT = 80, TOP = 16;

export async function render(main) {
  const conv = select("conversation", [["", "all conversations"]]);
  const chart = h("div", {});
  const counts = h("ul", { class: "list counts", "aria-label": "Count per emotion" });
  async function load() {
    const query = conv.value ? `?conversation_id=${encodeURIComponent(conv.value)}` : "";
    const data = await guarded(() => api(`/api/emotions${query}`));
    if (!data) return;
    chart.replaceChildren(data.points.length ? plot(data.points)
      : h("p", {}, "No feelings recorded yet: chat or talk, and they appear here."));
    counts.replaceChildren(...EMOTIONS.filter((e) => data.counts[e]).map((e) => h("li", {},
      h("span", { style: `color:${COLORS[e]}` }, "● "), `${e}: ${data.counts[e]}`)));
  }
  const list = await guarded(() => api("/api/conversations?limit=200"));
  conv.append(...(list?.conversations || []).map((c) =>
    h("option", { value: c.id }, c.title || when(c.created_at))));
  conv.addEventListener("change", load);
  main.append(h("h2", {}, "Emotion timeline"), h("div", { class: "row card" },
    field("Show", conv)), chart, h("h3", {}, "Counts"), counts);
  await load();
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

function plot(points) {
  const times = points.map((p) => new Date(p.at).getTime());
  const [t0, t1] = [Math.min(...times), Math.max(...times)];
  const x = (t) => LEFT + (t1 === t0 ? (W - LEFT) / 2 : ((t - t0) / (t1 - t0)) * (W - LEFT - 20));
  const y = (emotion) => TOP + Math.max(0, EMOTIONS.indexOf(emotion)) * ROW;
  const height = TOP * 2 + (EMOTIONS.length - 1) * ROW + 24;
  const chart = svg("svg", { class: "timeline", viewBox: `0 0 ${W} ${height}`, role: "img",
    "aria-label": `Emotions of ${points.length} messages from ${when(points[0].at)} to ${when(points.at(-1).at)}` });
  for (const e of EMOTIONS) {
    chart.append(svg("text", { x: 6, y: y(e) + 4, "font-size": 13, fill: "#333" }, e),
      svg("line", { x1: LEFT, x2: W - 10, y1: y(e), y2: y(e), stroke: "#e2dfd8" }));
  }
  chart.append(svg("text", { x: LEFT, y: height - 6, "font-size": 12, fill: "#333" }, when(points[0].at)),
    svg("text", { x: W - 10, y: height - 6, "font-size": 12, fill: "#333", "text-anchor": "end" },
      when(points.at(-1).at)));
  points.forEach((p, i) => chart.append(svg("circle", { class: "point", cx: x(times[i]),
    cy: y(p.emotion), r: 4 + 6 * (p.confidence ?? 0.5), fill: COLORS[p.emotion] || "#555",
    "fill-opacity": 0.75 }, svg("title", {}, `${when(p.at)} · ${p.emotion}: ${p.text}`))));
  return chart;
}

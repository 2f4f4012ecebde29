// Theme dashboard: frequency over time, by document type and by source, co-occurrence and
// emerging themes and terms. Numbers come straight from /api/themes/*; every bar and cell opens
// the search that finds the passages behind it.

import { DOC_TYPES_SHORT, api, el, searchUrl, session, showError, themes } from "./common.js";
import { barChart, downloadCsv, heatMap, mountChart } from "./charts.js";

const DEFAULT_THEMES = 5;
const MAX_THEMES = 8;
const form = document.getElementById("dash-form");
const errorBox = document.getElementById("dash-error");

function stateFromUrl() {
  const qs = new URLSearchParams(window.location.search);
  return {
    themes: qs.getAll("theme"),
    by: qs.get("by") === "quarter" ? "quarter" : "year",
    count: qs.get("count") === "passages" ? "passages" : "documents",
    year_from: qs.get("year_from") || "",
    year_to: qs.get("year_to") || "",
  };
}

function stateFromForm() {
  const data = new FormData(form);
  return {
    themes: data.getAll("theme").map(String),
    by: String(data.get("by")),
    count: String(data.get("count")),
    year_from: String(data.get("year_from") || ""),
    year_to: String(data.get("year_to") || ""),
  };
}

function query(state, extra = {}) {
  const qs = new URLSearchParams();
  if (state.year_from) qs.set("year_from", state.year_from);
  if (state.year_to) qs.set("year_to", state.year_to);
  for (const [k, v] of Object.entries(extra)) {
    if (Array.isArray(v)) v.forEach((x) => qs.append(k, x));
    else qs.set(k, v);
  }
  return qs;
}

function fillForm(state, taxonomy) {
  const box = document.getElementById("theme-options");
  box.replaceChildren();
  for (const [group, groupLabel] of Object.entries(taxonomy.groups)) {
    const members = taxonomy.themes.filter((t) => t.group === group);
    if (!members.length) continue;
    box.append(el(
      "fieldset", { class: "theme-group" }, el("legend", {}, groupLabel),
      members.map((t) => {
        const id = `th-${t.id}`;
        return el("div", { class: "check" },
          el("input", { type: "checkbox", id, name: "theme", value: t.id, checked: state.themes.includes(t.id) ? true : null }),
          el("label", { for: id, title: t.description }, t.label));
      }),
    ));
  }
  document.getElementById("chosen-themes").textContent = state.themes.map(taxonomy.label).join(", ") || "none";
  document.getElementById("dash-by").value = state.by;
  document.getElementById("dash-count").value = state.count;
  document.getElementById("dash-year-from").value = state.year_from;
  document.getElementById("dash-year-to").value = state.year_to;
}

function fillKeys(keys, by) {
  // show gaps as zero so a quiet year is visible rather than silently skipped
  if (!keys.length) return keys;
  if (by === "year") {
    const years = keys.map(Number);
    const out = [];
    for (let y = Math.min(...years); y <= Math.max(...years); y += 1) out.push(String(y));
    return out;
  }
  const parse = (k) => { const [y, q] = k.split("-Q"); return Number(y) * 4 + Number(q) - 1; };
  const nums = keys.map(parse);
  const out = [];
  for (let n = Math.min(...nums); n <= Math.max(...nums); n += 1) out.push(`${Math.floor(n / 4)}-Q${(n % 4) + 1}`);
  return out;
}

function lookup(rows, count) {
  const table = new Map();
  for (const r of rows) table.set(`${r.theme}\u0000${r.key}`, r[count]);
  return (theme, key) => table.get(`${theme}\u0000${key}`) || 0;
}

function seriesOf(state, label) {
  return state.themes.map((id) => ({ id, label: label(id) }));
}

function frequencyChart(container, { rows, keys, keyLabel, state, label, name, title, caption, hrefOf, tableOpen }) {
  const value = lookup(rows, state.count);
  const series = seriesOf(state, label);
  const categories = keys.map((k) => ({ key: k, label: keyLabel(k) }));
  if (!categories.length) {
    container.replaceChildren(el("p", { class: "hint" }, "No documents with these themes have a value for this."));
    return;
  }
  const countWord = state.count === "documents" ? "Documents" : "Passages";
  const svgNode = barChart({ title: `${title} (${countWord.toLowerCase()})`, categories, series, value, yLabel: countWord, hrefOf });
  const header = [caption, ...categories.map((c) => c.label)];
  const tableRows = series.map((s) => [s.label, ...categories.map((c) => value(s.id, c.key))]);
  const cellHref = (ri, ci) => hrefOf(series[ri].id, categories[ci].key);
  mountChart(container, { svgNode, name, title, header, rows: tableRows, tableOpen, cellHref });
}

async function drawTime(state, label) {
  const data = await api(`/api/themes/frequency?${query(state, { by: state.by, theme: state.themes })}`);
  const keys = fillKeys([...new Set(data.rows.map((r) => r.key))].sort(), state.by);
  frequencyChart(document.getElementById("chart-time"), {
    rows: data.rows, keys, keyLabel: (k) => k, state, label, caption: "Theme",
    name: `themes-by-${state.by}`, title: `Themes by ${state.by}`, tableOpen: true,
    // search has years, not quarters: a quarter opens its whole year
    hrefOf: (theme, key) => searchUrl({ theme, year_from: key.slice(0, 4), year_to: key.slice(0, 4) }),
  });
}

async function drawType(state, label) {
  const data = await api(`/api/themes/frequency?${query(state, { by: "doc_type", theme: state.themes })}`);
  const keys = [...new Set(data.rows.map((r) => r.key))].sort();
  frequencyChart(document.getElementById("chart-type"), {
    rows: data.rows, keys, keyLabel: (k) => DOC_TYPES_SHORT[k] || k, state, label, caption: "Theme",
    name: "themes-by-document-type", title: "Themes by document type",
    hrefOf: (theme, key) => searchUrl({ theme, doc_type: key, year_from: state.year_from, year_to: state.year_to }),
  });
}

async function drawSource(state, label) {
  const data = await api(`/api/themes/frequency?${query(state, { by: "source", theme: state.themes })}`);
  const keys = [...new Set(data.rows.map((r) => r.key))].sort();
  frequencyChart(document.getElementById("chart-source"), {
    rows: data.rows, keys, keyLabel: (k) => k, state, label, caption: "Theme",
    name: "themes-by-source", title: "Themes by source",
    // search has no source filter: the theme and years narrow it, the source is in each hit
    hrefOf: (theme) => searchUrl({ theme, year_from: state.year_from, year_to: state.year_to }),
  });
}

async function drawCooccurrence(state, label) {
  const container = document.getElementById("chart-co");
  if (state.themes.length < 2) {
    container.replaceChildren(el("p", { class: "hint" }, "Choose at least two themes to see which occur together."));
    return;
  }
  const data = await api(`/api/themes/cooccurrence?${query(state)}`);
  const chosen = new Set(state.themes);
  const table = new Map();
  for (const c of data.cells) {
    if (chosen.has(c.theme_a) && chosen.has(c.theme_b)) {
      table.set(`${c.theme_a}\u0000${c.theme_b}`, c[state.count]);
      table.set(`${c.theme_b}\u0000${c.theme_a}`, c[state.count]);
    }
  }
  const value = (a, b) => table.get(`${a}\u0000${b}`) || 0;
  const items = seriesOf(state, label);
  const countWord = state.count === "documents" ? "documents" : "passages";
  const svgNode = heatMap({
    title: `Themes on the same passage (${countWord})`, items, value,
    hrefOf: (a, b) => searchUrl({ theme: [a, b], year_from: state.year_from, year_to: state.year_to }),
  });
  const header = ["Theme", ...items.map((i) => i.label)];
  const rows = items.map((a) => [a.label, ...items.map((b) => (a.id === b.id ? "" : value(a.id, b.id)))]);
  const cellHref = (ri, ci) => (ri === ci ? null : searchUrl({ theme: [items[ri].id, items[ci].id], year_from: state.year_from, year_to: state.year_to }));
  mountChart(container, { svgNode, name: "theme-cooccurrence", title: "Themes that occur together", header, rows, cellHref });
}

async function drawEmerging(state, label) {
  const box = document.getElementById("emerging");
  let data;
  try {
    data = await api(`/api/themes/emerging?limit=15`);
  } catch (err) {
    box.replaceChildren(el("p", { class: "hint" }, err.message));
    return;
  }
  const themeRows = data.themes.map((t) => [label(t.theme), t.recent, t.baseline, t.score.toFixed(1)]);
  const termRows = data.terms.map((t) => [t.term, t.recent, t.baseline, t.score.toFixed(1)]);
  const table = (caption, rows, linkOf, header, name) => el(
    "div", { class: "emerging-block" },
    el("table", { class: "data-table" },
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, header.map((h, i) => el("th", { scope: "col", class: i ? "num" : null }, h)))),
      el("tbody", {}, rows.map((row, i) => el("tr", {},
        el("th", { scope: "row" }, el("a", { href: linkOf(i) }, row[0])),
        row.slice(1).map((v) => el("td", { class: "num" }, v)))))),
    el("button", { type: "button", class: "small", onclick: () => downloadCsv(header, rows, name), "aria-label": `Download ${caption} as CSV` }, "CSV"),
  );
  const header = ["", "Recent passages", "Earlier passages", "Significance (G²)"];
  box.replaceChildren(
    el("p", { class: "hint" }, `Over-represented in the latest year (${data.recent_passages} passages) against every year before (${data.baseline_passages} passages).`),
    el("div", { class: "emerging-grid" },
      table("Emerging themes", themeRows, (i) => searchUrl({ theme: data.themes[i].theme }), ["Theme", ...header.slice(1)], "emerging-themes"),
      table("Emerging terms", termRows, (i) => searchUrl({ q: data.terms[i].term }), ["Term", ...header.slice(1)], "emerging-terms")),
  );
}

async function defaultThemes() {
  const data = await api("/api/themes/frequency?by=doc_type");
  const totals = new Map();
  for (const r of data.rows) totals.set(r.theme, (totals.get(r.theme) || 0) + r.documents);
  return [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, DEFAULT_THEMES).map(([id]) => id);
}

async function run(state) {
  errorBox.hidden = true;
  try {
    const taxonomy = await themes();
    if (!state.themes.length) state.themes = await defaultThemes();
    state.themes = state.themes.filter((t) => taxonomy.byId.has(t)).slice(0, MAX_THEMES);
    fillForm(state, taxonomy);
    const label = taxonomy.label;
    await Promise.all([
      drawTime(state, label), drawType(state, label), drawSource(state, label),
      drawCooccurrence(state, label), drawEmerging(state, label),
    ]);
    document.body.dataset.ready = "true";
  } catch (err) {
    showError(errorBox, err);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const state = stateFromForm();
  if (state.themes.length > MAX_THEMES) {
    showError(errorBox, new Error(`Choose at most ${MAX_THEMES} themes so the charts stay readable.`));
    return;
  }
  const qs = new URLSearchParams();
  state.themes.forEach((t) => qs.append("theme", t));
  qs.set("by", state.by);
  qs.set("count", state.count);
  if (state.year_from) qs.set("year_from", state.year_from);
  if (state.year_to) qs.set("year_to", state.year_to);
  window.history.pushState(null, "", `/dashboard?${qs}`);
  run(state);
});
window.addEventListener("popstate", () => run(stateFromUrl()));

session.then(({ role, keysRequired }) => {
  if (role || !keysRequired) run(stateFromUrl());
});

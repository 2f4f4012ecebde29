// Search page: the URL's query string is the state, so every search can be shared and the
// browser's back button works. The form is a plain GET form that works without this script.

import {
  DOC_TYPES, SECTION_KINDS, STANCES, announce, api, el, markedFragment, session, showError, themes,
} from "./common.js";

const PAGE_SIZE = 20;
const FACETS = [
  { name: "theme", param: "theme", title: "Themes", note: "A passage must have every ticked theme." },
  { name: "doc_type", param: "doc_type", title: "Document type", labels: DOC_TYPES },
  { name: "stance", param: "stance", title: "Stance", labels: STANCES },
  { name: "section_kind", param: "section_kind", title: "Section", labels: SECTION_KINDS },
  { name: "agency", param: "agency", title: "Agency mentioned" },
];
const SHOWN = 8;
const LIST_PARAMS = FACETS.map((f) => f.param);

const form = document.getElementById("search-form");
const qInput = document.getElementById("q");
const results = document.getElementById("results");
const errorBox = document.getElementById("search-error");
const expanded = new Set();

function stateFromUrl() {
  const qs = new URLSearchParams(window.location.search);
  const state = { q: qs.get("q") || "", year_from: qs.get("year_from") || "", year_to: qs.get("year_to") || "" };
  for (const p of LIST_PARAMS) state[p] = qs.getAll(p);
  state.page = Math.max(1, Number.parseInt(qs.get("page") || "1", 10) || 1);
  return state;
}

function stateFromForm() {
  const data = new FormData(form);
  const state = {
    q: String(data.get("q") || "").trim(),
    year_from: String(data.get("year_from") || ""),
    year_to: String(data.get("year_to") || ""),
    page: 1,
  };
  for (const p of LIST_PARAMS) state[p] = data.getAll(p).map(String);
  return state;
}

function params(state, { paging = true } = {}) {
  const qs = new URLSearchParams();
  if (state.q) qs.set("q", state.q);
  for (const p of LIST_PARAMS) for (const v of state[p]) qs.append(p, v);
  if (state.year_from) qs.set("year_from", state.year_from);
  if (state.year_to) qs.set("year_to", state.year_to);
  if (paging && state.page > 1) qs.set("page", String(state.page));
  return qs;
}

function pageUrl(state) {
  const qs = params(state).toString();
  return qs ? `/search?${qs}` : "/search";
}

function apiParams(state) {
  const qs = params(state, { paging: false });
  qs.set("offset", String((state.page - 1) * PAGE_SIZE));
  qs.set("limit", String(PAGE_SIZE));
  return qs;
}

function fillForm(state) {
  qInput.value = state.q;
  document.getElementById("year_from").value = state.year_from;
  document.getElementById("year_to").value = state.year_to;
}

function facetGroup(facet, counts, selected, labelOf) {
  const values = Object.entries(counts || {});
  for (const v of selected) if (!(v in (counts || {}))) values.push([v, 0]);
  const id = `facet-${facet.name}`;
  const showAll = expanded.has(facet.name) || values.length <= SHOWN + 2;
  const visible = showAll ? values : values.slice(0, SHOWN);
  const list = el(
    "ul",
    { class: "facet-list" },
    visible.map(([value, count], i) => {
      const inputId = `${id}-${i}`;
      return el(
        "li",
        {},
        el("input", {
          type: "checkbox", id: inputId, name: facet.param, value, checked: selected.includes(value) ? true : null,
        }),
        el("label", { for: inputId }, labelOf(value), " ", el("span", { class: "count" }, `(${count})`)),
      );
    }),
  );
  const parts = [el("legend", {}, facet.title)];
  if (facet.note) parts.push(el("p", { class: "hint" }, facet.note));
  if (!values.length) parts.push(el("p", { class: "hint" }, "None in these results."));
  else parts.push(list);
  if (!showAll) {
    parts.push(
      el("button", {
        type: "button", class: "link-button",
        onclick: () => {
          expanded.add(facet.name);
          render(current, lastResponse);
          // keep the keyboard where the list grew: on the first value that was hidden
          const next = document.querySelectorAll(`#${id} input`)[SHOWN];
          if (next) next.focus();
        },
      }, `Show all ${values.length}`),
    );
  }
  return el("fieldset", { class: "facet", id }, parts);
}

function yearFacet(counts) {
  const years = Object.entries(counts || {}).sort((a, b) => a[0].localeCompare(b[0]));
  if (!years.length) return null;
  return el(
    "div",
    { class: "year-facet" },
    el("span", { class: "hint" }, "Passages by year: "),
    years.map(([year, count]) =>
      el("a", { href: pageUrl({ ...current, year_from: year, year_to: year, page: 1 }), class: "year-link", "aria-label": `${year}: ${count} passages; show only ${year}` }, `${year} (${count})`),
    ),
  );
}

function hitMeta(hit, labelOf) {
  const bits = [];
  if (hit.page) bits.push(`Page ${hit.page}`);
  if (hit.paragraph) bits.push(`paragraph ${hit.paragraph}`);
  if (hit.section) bits.push(hit.section);
  const meta = el("p", { class: "hit-meta" }, bits.join(" · "));
  if (hit.stance) meta.append(" ", el("span", { class: `stance stance-${hit.stance}` }, STANCES[hit.stance] || hit.stance));
  const chips = hit.themes.length
    ? el("ul", { class: "chips", "aria-label": "Themes" }, hit.themes.map((t) => el("li", { class: "chip" }, labelOf(t))))
    : null;
  return [meta, chips];
}

function renderHits(response, labelOf) {
  results.replaceChildren();
  const groups = new Map();
  for (const hit of response.hits) {
    if (!groups.has(hit.document_id)) groups.set(hit.document_id, []);
    groups.get(hit.document_id).push(hit);
  }
  const from = params({ ...current }).toString();
  for (const [docId, hits] of groups) {
    const first = hits[0];
    const docUrl = `/documents/${encodeURIComponent(docId)}${from ? `?from=${encodeURIComponent(from)}` : ""}`;
    const header = el(
      "header", { class: "doc-hit-header" },
      el("h3", {}, el("a", { href: docUrl }, first.title || "Untitled document")),
      el("p", { class: "doc-hit-type" }, [DOC_TYPES[first.doc_type] || first.doc_type, first.year ? String(first.year) : null].filter(Boolean).join(" · ")),
    );
    const items = el(
      "ol", { class: "passage-hits" },
      hits.map((hit) => el(
        "li", { class: "hit" },
        el("blockquote", { class: "hit-text" }, hit.highlights.map((f) => el("p", {}, markedFragment(f)))),
        ...hitMeta(hit, labelOf),
        el("a", {
          class: "open-passage", href: `${docUrl}#p-${hit.passage_index}`,
        }, "Open the document at this passage",
        el("span", { class: "visually-hidden" }, ` (${first.title || "untitled"}${hit.paragraph ? `, paragraph ${hit.paragraph}` : ""})`)),
      )),
    );
    results.append(el("li", { class: "doc-hit" }, header, items));
  }
}

function renderPager(state, total) {
  const pager = document.getElementById("pager");
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  pager.hidden = pages <= 1;
  const prev = document.getElementById("prev-page");
  const next = document.getElementById("next-page");
  prev.hidden = state.page <= 1;
  next.hidden = state.page >= pages;
  prev.href = pageUrl({ ...state, page: state.page - 1 });
  next.href = pageUrl({ ...state, page: state.page + 1 });
  document.getElementById("page-info").textContent = `Page ${state.page} of ${pages}`;
}

let current = stateFromUrl();
let lastResponse = null;
let lastLabelOf = (id) => id;

function render(state, response) {
  const labelOf = lastLabelOf;
  const facetBox = document.getElementById("facet-groups");
  facetBox.replaceChildren(
    ...[yearFacet(response.facets.year)].filter(Boolean),
    ...FACETS.map((f) => facetGroup(f, response.facets[f.name], state[f.param], f.name === "theme" ? labelOf : (v) => (f.labels && f.labels[v]) || v)),
  );
  const count = document.getElementById("result-count");
  const start = response.total ? (state.page - 1) * PAGE_SIZE + 1 : 0;
  const end = Math.min(response.total, state.page * PAGE_SIZE);
  count.textContent = response.total
    ? `${response.total} passage${response.total === 1 ? "" : "s"} found; showing ${start} to ${end}.`
    : "No passages match. Try fewer words or filters.";
  renderHits(response, labelOf);
  renderPager(state, response.total);
  const exportQs = params(state, { paging: false }).toString();
  document.getElementById("export-links").hidden = !response.total;
  document.getElementById("export-csv").href = `/api/export/search.csv${exportQs ? `?${exportQs}` : ""}`;
  document.getElementById("export-xlsx").href = `/api/export/search.xlsx${exportQs ? `?${exportQs}` : ""}`;
}

async function run(state) {
  current = state;
  fillForm(state);
  errorBox.hidden = true;
  results.setAttribute("aria-busy", "true");
  document.title = state.q ? `${state.q} · Search · ReviewLens` : "Search · ReviewLens";
  try {
    const [response, taxonomy] = await Promise.all([
      api(`/api/search?${apiParams(state)}`),
      themes().catch(() => null),
    ]);
    if (taxonomy) lastLabelOf = taxonomy.label;
    lastResponse = response;
    render(state, response);
    announce(document.getElementById("result-count").textContent);
  } catch (err) {
    results.replaceChildren();
    document.getElementById("result-count").textContent = "";
    document.getElementById("pager").hidden = true;
    showError(errorBox, err);
  } finally {
    results.removeAttribute("aria-busy");
  }
}

function go(state) {
  const url = pageUrl(state);
  if (url !== window.location.pathname + window.location.search) window.history.pushState(null, "", url);
  return run(state);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  go(stateFromForm());
});
form.addEventListener("change", (event) => {
  if (!event.target.matches("input[type=checkbox]")) return;
  const { name, value } = event.target;
  // the facet lists are redrawn with new counts; keep keyboard focus on the same box
  go(stateFromForm()).then(() => {
    const again = [...form.querySelectorAll(`input[type=checkbox][name="${name}"]`)].find((i) => i.value === value);
    if (again) again.focus();
  });
});
document.getElementById("pager").addEventListener("click", (event) => {
  const link = event.target.closest("a");
  if (!link || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  const page = link.id === "next-page" ? current.page + 1 : current.page - 1;
  go({ ...current, page }).then(() => document.getElementById("results-title").focus());
});
document.getElementById("facet-groups").addEventListener("click", (event) => {
  const link = event.target.closest("a.year-link");
  if (!link || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  const year = link.textContent.split(" ")[0];
  go({ ...current, year_from: year, year_to: year, page: 1 });
});
document.getElementById("copy-link").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(window.location.href);
    announce("Link copied.");
  } catch {
    announce("Copy the address from the address bar to share this search.");
  }
});
window.addEventListener("popstate", () => run(stateFromUrl()));
document.getElementById("results-title").setAttribute("tabindex", "-1");

session.then(({ role, keysRequired }) => {
  // signed out on a server that needs keys: the sign-in box is showing, nothing to fetch yet
  if (role || !keysRequired) run(current);
});

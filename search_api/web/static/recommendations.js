// Recommendations with their look-alikes in other documents. State lives in the URL like search.

import { DOC_TYPES, api, el, session, showError } from "./common.js";

const PAGE_SIZE = 20;
const REPEATED = 0.3;
const form = document.getElementById("rec-form");
const list = document.getElementById("rec-list");
const errorBox = document.getElementById("rec-error");

function stateFromUrl() {
  const qs = new URLSearchParams(window.location.search);
  return {
    doc_type: qs.get("doc_type") || "",
    year_from: qs.get("year_from") || "",
    year_to: qs.get("year_to") || "",
    repeated: qs.get("repeated") === "1",
    page: Math.max(1, Number.parseInt(qs.get("page") || "1", 10) || 1),
  };
}

function pageUrl(state) {
  const qs = new URLSearchParams();
  for (const name of ["doc_type", "year_from", "year_to"]) if (state[name]) qs.set(name, state[name]);
  if (state.repeated) qs.set("repeated", "1");
  if (state.page > 1) qs.set("page", String(state.page));
  return `/recommendations${qs.toString() ? `?${qs}` : ""}`;
}

function docLink(id, title, index) {
  return el("a", { href: `/documents/${encodeURIComponent(id)}#r-${index}` }, title || "Untitled document");
}

function item(rec) {
  const meta = [DOC_TYPES[rec.doc_type] || rec.doc_type, rec.year ? String(rec.year) : null, rec.addressee ? `To: ${rec.addressee}` : null];
  const similar = rec.similar.length
    ? el("details", { class: "similar", open: rec.similar.some((s) => s.score >= REPEATED) ? true : null },
      el("summary", {}, `Similar recommendations elsewhere (${rec.similar.length})`),
      el("ul", {}, rec.similar.map((s) => el("li", {},
        el("span", { class: "score" }, `${Math.round(s.score * 100)}% similar`), " ",
        s.number ? `${s.number}. ` : "", s.text, " ",
        el("span", { class: "hint" }, "in "), docLink(s.document_id, s.title, s.index)))))
    : el("p", { class: "hint" }, "No similar recommendation in other documents.");
  return el("li", { class: "rec-item" },
    el("p", { class: "rec-text" }, rec.number ? el("strong", {}, `${rec.number}. `) : null, rec.text),
    el("p", { class: "hit-meta" }, docLink(rec.document_id, rec.title, rec.index), " · ", meta.filter(Boolean).join(" · ")),
    similar);
}

let current = stateFromUrl();

async function run(state) {
  current = state;
  document.getElementById("rec-type").value = state.doc_type;
  document.getElementById("rec-year-from").value = state.year_from;
  document.getElementById("rec-year-to").value = state.year_to;
  document.getElementById("rec-repeated").checked = state.repeated;
  errorBox.hidden = true;
  const qs = new URLSearchParams({ offset: String((state.page - 1) * PAGE_SIZE), limit: String(PAGE_SIZE), similar: "3" });
  for (const name of ["doc_type", "year_from", "year_to"]) if (state[name]) qs.set(name, state[name]);
  try {
    const data = await api(`/api/recommendations?${qs}`);
    const shown = state.repeated ? data.items.filter((r) => r.similar.some((s) => s.score >= REPEATED)) : data.items;
    list.replaceChildren(...shown.map(item));
    const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
    document.getElementById("rec-count").textContent = `${data.total} recommendation${data.total === 1 ? "" : "s"}; page ${state.page} of ${pages}` +
      (state.repeated ? `; ${shown.length} on this page were made elsewhere too.` : ".");
    const pager = document.getElementById("rec-pager");
    pager.hidden = pages <= 1;
    const prev = document.getElementById("rec-prev");
    const next = document.getElementById("rec-next");
    prev.hidden = state.page <= 1;
    next.hidden = state.page >= pages;
    prev.href = pageUrl({ ...state, page: state.page - 1 });
    next.href = pageUrl({ ...state, page: state.page + 1 });
    document.getElementById("rec-page-info").textContent = `Page ${state.page} of ${pages}`;
  } catch (err) {
    list.replaceChildren();
    showError(errorBox, err);
  }
}

function go(state) {
  window.history.pushState(null, "", pageUrl(state));
  return run(state);
}

for (const [value, label] of Object.entries(DOC_TYPES)) {
  document.getElementById("rec-type").append(el("option", { value }, label));
}
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData(form);
  go({
    doc_type: String(data.get("doc_type") || ""),
    year_from: String(data.get("year_from") || ""),
    year_to: String(data.get("year_to") || ""),
    repeated: data.get("repeated") === "1",
    page: 1,
  });
});
document.getElementById("rec-pager").addEventListener("click", (event) => {
  const link = event.target.closest("a");
  if (!link || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  go({ ...current, page: current.page + (link.id === "rec-next" ? 1 : -1) });
});
window.addEventListener("popstate", () => run(stateFromUrl()));

session.then(({ role, keysRequired }) => {
  if (role || !keysRequired) run(current);
});

// Document view: metadata, sections, every passage with its theme tags and the evidence for
// each tag highlighted from ThemeTag.spans, and the recommendations. Text goes in as text.

import {
  DOC_TYPES, GRADES, SECTION_KINDS, STANCES, api, el, formatDate, session, showError, themes, hasRole, announce,
} from "./common.js";

const main = document.getElementById("main");
const docId = main.dataset.documentId;
const errorBox = document.getElementById("doc-error");

function evidenceText(text, tags, labelOf) {
  // split the passage at every span boundary; a piece inside one or more spans is a <mark>
  const cuts = new Set([0, text.length]);
  const spans = [];
  for (const tag of tags) {
    for (const [start, end] of tag.spans || []) {
      if (start >= 0 && end <= text.length && start < end) {
        spans.push([start, end, tag.id]);
        cuts.add(start);
        cuts.add(end);
      }
    }
  }
  const points = [...cuts].sort((a, b) => a - b);
  const out = el("p", { class: "passage-text" });
  for (let i = 0; i < points.length - 1; i += 1) {
    const [from, to] = [points[i], points[i + 1]];
    const piece = text.slice(from, to);
    const covering = [...new Set(spans.filter(([s, e]) => s <= from && e >= to).map(([, , id]) => id))];
    if (covering.length) {
      const names = covering.map(labelOf).join(", ");
      out.append(el("mark", { class: "evidence", title: `Evidence for: ${names}`, dataset: { themes: covering.join(" ") } }, piece));
    } else {
      out.append(piece);
    }
  }
  return out;
}

function metaList(doc) {
  const rows = [
    ["Type", DOC_TYPES[doc.doc_type] || doc.doc_type],
    ["Published", doc.date ? formatDate(doc.date) : doc.year ? String(doc.year) : "Not known"],
  ];
  const md = doc.metadata || {};
  const area = md.area || md.partnership || md.local_authority;
  if (area) rows.push(["Area", String(area)]);
  if (Array.isArray(md.inspection_dates) && md.inspection_dates.length) {
    rows.push(["Inspection dates", md.inspection_dates.map(formatDate).join(" to ")]);
  }
  for (const [key, label] of [["subject", "Subject"], ["review_type", "Review"], ["author", "Author"], ["independent_reviewer", "Reviewer"]]) {
    if (typeof md[key] === "string" && md[key]) rows.push([label, md[key]]);
  }
  rows.push(["File", doc.file_name]);
  rows.push(["Pages", String(doc.page_count || "")]);
  rows.push(["Passages", String(doc.passages.length)]);
  if (doc.taxonomy_version) rows.push(["Tagged with theme list", doc.taxonomy_version]);
  return rows.flatMap(([dt, dd]) => [el("dt", {}, dt), el("dd", {}, dd)]);
}

function judgementsTable(judgements) {
  if (!judgements || typeof judgements !== "object" || !Object.keys(judgements).length) return null;
  const label = (key) => key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
  return el(
    "table", { class: "judgements" },
    el("caption", {}, "Inspection judgements"),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Judgement"), el("th", { scope: "col" }, "Grade"))),
    el("tbody", {}, Object.entries(judgements).map(([key, grade]) => el(
      "tr", {}, el("th", { scope: "row" }, label(key)),
      el("td", {}, el("span", { class: `grade grade-${String(grade)}` }, GRADES[grade] || String(grade))),
    ))),
  );
}

function passageNode(p, labelOf) {
  const meta = [];
  if (p.paragraph) meta.push(`Paragraph ${p.paragraph}`);
  if (p.page) meta.push(`Page ${p.page}`);
  const head = el("p", { class: "passage-meta" }, meta.join(" · "));
  if (p.stance) head.append(" ", el("span", { class: `stance stance-${p.stance}` }, STANCES[p.stance]));
  if (p.is_recommendation) head.append(" ", el("span", { class: "tag-rec" }, "Recommendation"));
  const tags = p.themes.length
    ? el("ul", { class: "tag-list", "aria-label": "Themes tagged" }, p.themes.map((t) => el(
      "li", { class: "chip", title: t.evidence.length ? `Evidence: ${t.evidence.join("; ")}` : null },
      labelOf(t.id) || t.label,
      t.evidence.length ? el("span", { class: "evidence-note" }, ` (“${t.evidence.join("”, “")}”)`) : null,
    )))
    : null;
  const agencies = p.agencies.length ? el("p", { class: "agencies" }, `Agencies: ${p.agencies.join(", ")}`) : null;
  return el(
    "div", { class: `passage kind-${p.kind}`, id: `p-${p.index}`, tabindex: "-1" },
    head, evidenceText(p.text, p.themes, labelOf), tags, agencies,
  );
}

function render(doc, labelOf) {
  document.title = `${doc.title || doc.file_name} · ReviewLens`;
  document.getElementById("doc-title").textContent = doc.title || doc.file_name;
  document.getElementById("doc-meta").replaceChildren(...metaList(doc));
  const judgements = judgementsTable((doc.metadata || {}).judgements);
  document.getElementById("doc-judgements").replaceChildren(...(judgements ? [judgements] : []));

  // passages under their section headings; the table of contents links to the first of each
  const body = document.getElementById("passages");
  const toc = document.getElementById("toc");
  body.replaceChildren();
  toc.replaceChildren();
  let section = Symbol("none");
  let block = null;
  let n = 0;
  for (const p of doc.passages) {
    if (p.section !== section) {
      section = p.section;
      n += 1;
      const id = `s-${n}`;
      const heading = el("h3", { id }, p.section || "Opening");
      if (p.section_kind && p.section_kind !== "other") heading.append(" ", el("span", { class: "kind-label" }, SECTION_KINDS[p.section_kind]));
      block = el("section", { class: "doc-section", "aria-labelledby": id }, heading);
      body.append(block);
      toc.append(el("li", {}, el("a", { href: `#${id}` }, p.section || "Opening")));
    }
    block.append(passageNode(p, labelOf));
  }
  if (!doc.passages.length) body.append(el("p", {}, "No text was found in this document."));

  const themeList = document.getElementById("doc-themes");
  const counts = Object.entries(doc.themes || {}).sort((a, b) => b[1] - a[1]);
  themeList.replaceChildren(...counts.map(([id, count]) => el(
    "li", {}, el("a", { href: `/search?theme=${encodeURIComponent(id)}` }, labelOf(id)), ` (${count})`,
  )));
  if (!counts.length) themeList.append(el("li", {}, "None"));

  const recs = document.getElementById("recommendations");
  recs.replaceChildren(...doc.recommendations.map((r, i) => el(
    "li", { class: "recommendation", id: `r-${i}`, tabindex: "-1" },
    el("p", {}, r.number ? el("strong", {}, `${r.number}. `) : null, r.text),
    el("p", { class: "hint" }, [
      r.addressee ? `To: ${r.addressee}` : null,
      r.timescale ? `By: ${r.timescale}` : null,
      r.page ? `Page ${r.page}` : null,
    ].filter(Boolean).join(" · "),
    r.passage_index !== null && r.passage_index !== undefined ? el("a", { href: `#p-${r.passage_index}`, class: "rec-link" }, " Go to the passage") : null),
  )));
  if (!doc.recommendations.length) recs.append(el("li", { class: "hint" }, "This document makes no recommendations that were recognised."));
}

function goToHash() {
  const id = window.location.hash.slice(1);
  if (!/^[psr]-\d+$/.test(id)) return;
  const target = document.getElementById(id);
  if (!target) return;
  document.querySelectorAll(".current").forEach((n) => n.classList.remove("current"));
  if (target.id[0] !== "s") target.classList.add("current");
  target.scrollIntoView({ block: "center" });
  target.focus({ preventScroll: true });
}

function wireDelete(role) {
  const button = document.getElementById("delete-document");
  if (!hasRole(role, "admin")) return;
  let armed = false;
  button.addEventListener("click", async () => {
    if (!armed) {
      armed = true;
      button.textContent = "Confirm: delete this document and its original";
      announce("Press the button again to confirm the deletion.");
      return;
    }
    try {
      await api(`/api/documents/${encodeURIComponent(docId)}`, { method: "DELETE" });
      document.getElementById("document").replaceChildren(el("h1", {}, "Document deleted"), el("p", {}, el("a", { href: "/search" }, "Back to search")));
      announce("The document was deleted.");
    } catch (err) {
      showError(errorBox, err);
    }
  });
}

function setBackLink() {
  const from = new URLSearchParams(window.location.search).get("from");
  if (from !== null) document.getElementById("back-link").href = `/search?${new URLSearchParams(from)}`;
}

async function load() {
  const { role } = await session;
  setBackLink();
  wireDelete(role);
  try {
    const [doc, taxonomy] = await Promise.all([
      api(`/api/documents/${encodeURIComponent(docId)}`),
      themes().catch(() => null),
    ]);
    render(doc, taxonomy ? taxonomy.label : (id) => id);
    document.getElementById("document").setAttribute("aria-busy", "false");
    goToHash();
  } catch (err) {
    document.getElementById("doc-title").textContent = "Document not available";
    showError(errorBox, err);
  }
}

window.addEventListener("hashchange", goToHash);
load();

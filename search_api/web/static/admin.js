// Administration: library health, rebuild of the index with progress, deleting documents, and
// the theme list in use. The API checks the admin role on every call; hiding is only courtesy.

import { DOC_TYPES, announce, api, el, hasRole, session } from "./common.js";

const PAGE = 20;
let offset = 0;

async function loadHealth() {
  const box = document.getElementById("health");
  let data;
  try {
    const response = await fetch("/api/health");
    data = await response.json();
  } catch {
    box.replaceChildren(el("dt", {}, "Status"), el("dd", {}, "The server could not be reached."));
    return;
  }
  const parts = data.parts || {};
  const info = (name) => (parts[name] && parts[name].info) || {};
  const jobs = Object.entries(info("jobs")).map(([state, n]) => `${n} ${state}`).join(", ") || "none";
  const rows = [
    ["Status", data.status === "ok" ? "Everything is working" : `Degraded: ${Object.entries(parts).filter(([, p]) => !p.ok).map(([n, p]) => `${n} (${p.detail || "down"})`).join(", ")}`],
    ["Search backend", String(info("backend").backend || "")],
    ["Documents", String(info("backend").documents ?? "")],
    ["Passages", String(info("backend").passages ?? "")],
    ["Jobs", jobs],
    ["Theme list version", String(info("taxonomy").version || "not loaded")],
  ];
  box.replaceChildren(...rows.flatMap(([dt, dd]) => [el("dt", {}, dt), el("dd", {}, dd)]));
}

function showProgress(job) {
  const block = document.getElementById("reindex-progress");
  const bar = document.getElementById("reindex-bar");
  const label = document.getElementById("reindex-label");
  block.hidden = false;
  const p = job.progress;
  if (p && p.total) {
    bar.max = p.total;
    bar.value = p.done + p.failed;
  } else {
    bar.removeAttribute("value");
  }
  const counts = p ? `${p.done + p.failed} of ${p.total} documents${p.failed ? `, ${p.failed} failed` : ""}` : "";
  if (job.state === "done") {
    bar.max = 1;
    bar.value = 1;
    label.textContent = `Rebuilt: ${counts}.`;
  } else if (job.state === "failed") {
    label.textContent = `The rebuild failed: ${job.error || "no reason given"}. Search still uses the old index.`;
  } else {
    label.textContent = `Rebuilding (${job.state}) ${counts}`;
  }
}

async function follow(jobId) {
  const button = document.getElementById("reindex");
  button.disabled = true;
  for (;;) {
    let job;
    try {
      job = await api(`/api/jobs/${encodeURIComponent(jobId)}`);
    } catch (err) {
      document.getElementById("reindex-label").textContent = err.message;
      break;
    }
    showProgress(job);
    if (job.state === "done" || job.state === "failed") {
      announce(document.getElementById("reindex-label").textContent);
      loadHealth();
      loadDocuments();
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  button.disabled = false;
}

async function startReindex() {
  try {
    const job = await api("/api/admin/reindex", { method: "POST" });
    showProgress(job);
    follow(job.id);
  } catch (err) {
    document.getElementById("reindex-progress").hidden = false;
    document.getElementById("reindex-label").textContent = err.message;
  }
}

function deleteButton(doc, tr) {
  let armed = false;
  const button = el("button", { type: "button", class: "small danger" }, "Delete", el("span", { class: "visually-hidden" }, ` ${doc.title || doc.file_name}`));
  button.addEventListener("click", async () => {
    if (!armed) {
      armed = true;
      button.firstChild.textContent = "Confirm delete";
      announce("Press again to confirm the deletion.");
      return;
    }
    button.disabled = true;
    try {
      await api(`/api/documents/${encodeURIComponent(doc.id)}`, { method: "DELETE" });
      tr.remove();
      announce(`Deleted ${doc.title || doc.file_name}.`);
      loadHealth();
    } catch (err) {
      button.disabled = false;
      announce(err.message);
    }
  });
  return button;
}

async function loadDocuments() {
  const data = await api(`/api/documents?offset=${offset}&limit=${PAGE}`);
  const tbody = document.getElementById("doc-rows");
  tbody.replaceChildren(...data.items.map((doc) => {
    const tr = el("tr", {});
    tr.append(
      el("th", { scope: "row" }, el("a", { href: `/documents/${encodeURIComponent(doc.id)}` }, doc.title || doc.file_name)),
      el("td", {}, DOC_TYPES[doc.doc_type] || doc.doc_type),
      el("td", {}, doc.year ? String(doc.year) : ""),
      el("td", { class: "num" }, String(doc.passages)),
      el("td", {}, deleteButton(doc, tr)),
    );
    return tr;
  }));
  const pages = Math.max(1, Math.ceil(data.total / PAGE));
  document.getElementById("docs-info").textContent = `${data.total} documents · page ${offset / PAGE + 1} of ${pages}`;
  document.getElementById("docs-prev").disabled = offset === 0;
  document.getElementById("docs-next").disabled = offset + PAGE >= data.total;
}

async function loadTaxonomy() {
  const data = await api("/api/themes");
  document.getElementById("tax-version").textContent = data.version;
  document.getElementById("tax-count").textContent = String(data.themes.length);
  const box = document.getElementById("taxonomy");
  box.replaceChildren(...Object.entries(data.groups).map(([group, label]) => el(
    "details", { class: "tax-group" },
    el("summary", {}, label),
    el("table", { class: "data-table" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Theme"), el("th", { scope: "col" }, "Description"), el("th", { scope: "col" }, "Abbreviations"))),
      el("tbody", {}, data.themes.filter((t) => t.group === group).map((t) => el(
        "tr", {}, el("th", { scope: "row" }, t.label, el("br"), el("code", {}, t.id)), el("td", {}, t.description),
        el("td", {}, Object.keys(t.abbreviations).join(", ")),
      )))),
  )));
}

async function resumeReindex() {
  const data = await api("/api/jobs?kind=reindex&limit=1");
  const job = data.jobs[0];
  if (job && job.state !== "done" && job.state !== "failed") follow(job.id);
}

async function start() {
  const { role } = await session;
  if (!hasRole(role, "admin")) {
    document.getElementById("admin-denied").hidden = !role;
    return;
  }
  document.getElementById("reindex").addEventListener("click", startReindex);
  document.getElementById("docs-prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); loadDocuments(); });
  document.getElementById("docs-next").addEventListener("click", () => { offset += PAGE; loadDocuments(); });
  await Promise.all([loadHealth(), loadDocuments(), loadTaxonomy(), resumeReindex()]);
}

start();

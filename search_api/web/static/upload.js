// Upload: each file is sent on its own (so one bad file never holds up the rest), then its job
// is polled through queued -> extracting -> tagging -> indexing -> done, or failed with a reason.

import { ApiError, announce, api, el, formatDate, getKey, hasRole, session } from "./common.js";

const STEPS = ["queued", "extracting", "tagging", "indexing", "done"];
const STATE_TEXT = {
  sending: "Sending",
  queued: "Waiting",
  extracting: "Reading the text",
  tagging: "Tagging themes",
  indexing: "Indexing",
  done: "Done: searchable",
  failed: "Failed",
};
const POLL_MS = 800;

const rows = document.getElementById("upload-rows");
let counter = 0;

function row(file) {
  counter += 1;
  const id = `up-${counter}`;
  const bar = el("progress", { max: String(STEPS.length), value: "0", "aria-labelledby": `${id}-state` });
  const stateText = el("span", { id: `${id}-state`, class: "state" }, STATE_TEXT.sending);
  const details = el("span", { class: "details" });
  const actions = el("span", { class: "actions" });
  const tr = el(
    "tr", { id, class: "upload-row", dataset: { state: "sending" } },
    el("th", { scope: "row", class: "file-name" }, file.name),
    el("td", {}, bar, " ", stateText),
    el("td", {}, details),
    el("td", {}, actions),
  );
  rows.prepend(tr);
  document.getElementById("no-uploads").hidden = true;
  return { tr, bar, stateText, details, actions, file, name: file.name };
}

function setState(r, state, { message, documentId, duplicate } = {}) {
  r.tr.dataset.state = state;
  const step = STEPS.indexOf(state);
  if (state === "failed") r.bar.removeAttribute("value");
  else r.bar.value = state === "done" ? STEPS.length : Math.max(0, step) + 0.5;
  if (state === "failed") r.bar.hidden = true;
  r.stateText.textContent = STATE_TEXT[state] || state;
  r.details.replaceChildren();
  r.actions.replaceChildren();
  if (duplicate) r.details.append(el("span", { class: "duplicate" }, "Already in the library (the same file was uploaded before). "));
  if (message) r.details.append(el("span", { class: "reason" }, message));
  if (state === "done" && documentId) {
    r.actions.append(el("a", { href: `/documents/${encodeURIComponent(documentId)}` }, "Open", el("span", { class: "visually-hidden" }, ` ${r.name}`)));
  }
  if (state === "done" || state === "failed") announce(`${r.name}: ${STATE_TEXT[state]}${message ? `. ${message}` : ""}${duplicate ? ". Already in the library" : ""}`);
}

function retryButton(r, action) {
  r.actions.append(el("button", { type: "button", class: "small", onclick: action }, "Retry", el("span", { class: "visually-hidden" }, ` ${r.name}`)));
}

/** POST one file with XMLHttpRequest, which (unlike fetch) reports upload progress. */
function send(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/documents");
    const key = getKey();
    if (key) xhr.setRequestHeader("Authorization", `Bearer ${key}`);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && body) resolve(body);
      else {
        const error = body && body.error ? body.error : { code: "error", message: `The server answered ${xhr.status}.` };
        reject(new ApiError(xhr.status, error.code, error.message));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", "The upload could not reach the server.")));
    const data = new FormData();
    data.append("files", file, file.name);
    xhr.send(data);
  });
}

async function poll(r, jobId) {
  for (;;) {
    let job;
    try {
      job = await api(`/api/jobs/${encodeURIComponent(jobId)}`);
    } catch (err) {
      setState(r, "failed", { message: err.message });
      return;
    }
    if (job.state === "failed") {
      setState(r, "failed", { message: job.error || "The file could not be processed." });
      retryButton(r, () => retryJob(r, jobId));
      return;
    }
    setState(r, job.state, { documentId: job.document_id, duplicate: r.duplicate });
    if (job.state === "done") return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function retryJob(r, jobId) {
  try {
    await api(`/api/jobs/${encodeURIComponent(jobId)}/retry`, { method: "POST" });
    setState(r, "queued");
    poll(r, jobId);
  } catch (err) {
    setState(r, "failed", { message: err.message });
    retryButton(r, () => retryJob(r, jobId));
  }
}

async function upload(r) {
  setState(r, "sending");
  try {
    const body = await send(r.file, (fraction) => {
      r.stateText.textContent = `Sending ${Math.round(fraction * 100)}%`;
    });
    const item = body.jobs[0];
    r.duplicate = Boolean(item.duplicate);
    if (!item.id) {
      setState(r, "failed", { message: item.error ? item.error.message : "The file was refused." });
      retryButton(r, () => upload(r));
      return;
    }
    setState(r, item.state, { documentId: item.document_id, duplicate: r.duplicate, message: item.error ? item.error.message : null });
    if (item.state === "failed") {
      retryButton(r, () => retryJob(r, item.id));
      return;
    }
    if (item.state !== "done") await poll(r, item.id);
  } catch (err) {
    setState(r, "failed", { message: err.message });
    retryButton(r, () => upload(r));
  }
}

function accept(files) {
  for (const file of files) upload(row(file));
}

async function loadFailures() {
  const tbody = document.getElementById("failed-rows");
  try {
    const data = await api("/api/jobs?state=failed&kind=ingest&limit=20");
    tbody.replaceChildren(...data.jobs.map((job) => {
      const actions = el("td", {});
      const tr = el("tr", {}, el("th", { scope: "row" }, job.file_name || "(no name)"), el("td", {}, job.error || ""), el("td", {}, formatDate(job.updated_at)), actions);
      actions.append(el("button", {
        type: "button", class: "small",
        onclick: async (event) => {
          event.target.disabled = true;
          try {
            await api(`/api/jobs/${encodeURIComponent(job.id)}/retry`, { method: "POST" });
            tr.remove();
            const r = row({ name: job.file_name || "(no name)" });
            setState(r, "queued");
            poll(r, job.id);
          } catch (err) {
            event.target.disabled = false;
            announce(err.message);
          }
        },
      }, "Retry", el("span", { class: "visually-hidden" }, ` ${job.file_name || ""}`)));
      return tr;
    }));
    document.getElementById("no-failed").hidden = data.jobs.length > 0;
  } catch {
    document.getElementById("no-failed").hidden = false;
  }
}

async function start() {
  const { role } = await session;
  const zone = document.getElementById("drop-zone");
  if (!hasRole(role, "uploader")) {
    document.getElementById("upload-denied").hidden = !role;
    return;
  }
  const input = document.getElementById("file-input");
  input.addEventListener("change", () => {
    accept([...input.files]);
    input.value = "";
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    if (event.dataTransfer && event.dataTransfer.files.length) accept([...event.dataTransfer.files]);
  });
  loadFailures();
}

start();

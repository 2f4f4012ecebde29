// Shared by every page: the API key, calls to /api, safe DOM building and the labels of codes.
// Document text only ever reaches the page through textContent (see el() and markedFragment()).

const KEY_STORE = "reviewlens.apiKey";
const RANK = { reader: 1, uploader: 2, admin: 3 };

export const DOC_TYPES = {
  cspr: "Child safeguarding practice review",
  national_review: "National review",
  scr: "Serious case review",
  dhr: "Domestic homicide review",
  sar: "Safeguarding adult review",
  ofsted_ilacs: "Ofsted ILACS inspection",
  jtai: "Joint targeted area inspection",
  inspection_other: "Other inspection",
  audit: "Multi-agency audit",
  briefing: "Learning briefing",
  section11: "Section 11 audit",
  other: "Other",
};
export const DOC_TYPES_SHORT = {
  cspr: "CSPR",
  national_review: "National review",
  scr: "SCR",
  dhr: "DHR",
  sar: "SAR",
  ofsted_ilacs: "ILACS",
  jtai: "JTAI",
  inspection_other: "Other inspection",
  audit: "Audit",
  briefing: "Briefing",
  section11: "Section 11",
  other: "Other",
};
export const SECTION_KINDS = {
  summary: "Summary",
  terms_of_reference: "Terms of reference",
  background: "Background",
  chronology: "Chronology",
  key_practice_episodes: "Key practice episodes",
  analysis: "Analysis",
  findings: "Findings",
  learning: "Learning",
  good_practice: "Good practice",
  recommendations: "Recommendations",
  action_plan: "Action plan",
  judgements: "Judgements",
  other: "Other",
};
export const STANCES = {
  worked_well: "What worked well",
  worried: "What we are worried about",
  needs_to_happen: "What needs to happen",
};
export const GRADES = {
  outstanding: "Outstanding",
  good: "Good",
  requires_improvement: "Requires improvement to be good",
  inadequate: "Inadequate",
};

export function getKey() {
  return sessionStorage.getItem(KEY_STORE) || "";
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function authHeaders(extra = {}) {
  const key = getKey();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

async function errorFrom(response) {
  let code = "error";
  let message = `The server answered ${response.status}.`;
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch {
    // not JSON: keep the generic message
  }
  if (response.status === 401) showSignIn(message);
  return new ApiError(response.status, code, message);
}

/** Call the JSON API with the key; throws ApiError with the server's message on failure. */
export async function api(path, options = {}) {
  const init = { ...options, headers: authHeaders(options.headers || {}) };
  const response = await fetch(path, init);
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return null;
  return response.json();
}

/** Fetch a file with the key and hand it to the browser as a download. */
export async function download(path, fallbackName) {
  const response = await fetch(path, { headers: authHeaders() });
  if (!response.ok) throw await errorFrom(response);
  const blob = await response.blob();
  const disposition = response.headers.get("content-disposition") || "";
  const match = /filename\*=UTF-8''([^;]+)/i.exec(disposition) || /filename="([^"]+)"/i.exec(disposition);
  let name = fallbackName;
  if (match) {
    try {
      name = decodeURIComponent(match[1]);
    } catch {
      name = match[1];
    }
  }
  saveBlob(blob, name);
}

export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Links marked data-download fetch with the key, so downloads work when keys are required. */
export function wireDownloads(root = document) {
  root.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[data-download]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    download(link.getAttribute("href"), link.dataset.download).catch((err) => {
      announce(`Download failed: ${err.message}`);
      alertError(err.message);
    });
  });
}

/** Build an element; strings become text nodes, never markup. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#x27;": "'", "&#39;": "'" };

function unescapeHtml(text) {
  return text.replace(/&(amp|lt|gt|quot|#x27|#39);/g, (m) => ENTITIES[m]);
}

/** A server highlight fragment (escaped text with <mark> tags) rebuilt as DOM nodes without
 * innerHTML: only <mark> becomes an element, everything else is text. */
export function markedFragment(fragment) {
  const out = document.createDocumentFragment();
  let inMark = false;
  for (const part of fragment.split(/(<mark>|<\/mark>)/)) {
    if (part === "<mark>") inMark = true;
    else if (part === "</mark>") inMark = false;
    else if (part) {
      const text = unescapeHtml(part);
      out.append(inMark ? el("mark", {}, text) : document.createTextNode(text));
    }
  }
  return out;
}

export function announce(message) {
  const region = document.getElementById("status");
  if (!region) return;
  region.textContent = "";
  setTimeout(() => {
    region.textContent = message;
  }, 50);
}

function alertError(message) {
  const box = document.querySelector("[role=alert].error");
  if (box) {
    box.textContent = message;
    box.hidden = false;
  }
}

export function showError(box, err) {
  box.textContent = err instanceof ApiError || err instanceof Error ? err.message : String(err);
  box.hidden = false;
}

export function showSignIn(reason) {
  const panel = document.getElementById("sign-in");
  if (!panel || !panel.hidden) return;
  if (reason) document.getElementById("sign-in-reason").textContent = reason;
  panel.hidden = false;
  document.getElementById("api-key").focus();
}

let themeCache = null;

/** The taxonomy, fetched once per page: {version, groups, themes, label(id)}. */
export async function themes() {
  if (!themeCache) {
    themeCache = api("/api/themes").then((data) => {
      const byId = new Map(data.themes.map((t) => [t.id, t]));
      return { ...data, byId, label: (id) => (byId.get(id) ? byId.get(id).label : id) };
    });
  }
  return themeCache;
}

export function hasRole(role, needed) {
  return Boolean(role) && RANK[role] >= RANK[needed];
}

function applyRole(role, keysRequired) {
  for (const node of document.querySelectorAll("[data-role-min]")) {
    node.hidden = !hasRole(role, node.dataset.roleMin);
  }
  const label = document.getElementById("session-role");
  const signOut = document.getElementById("sign-out");
  if (keysRequired && role) {
    label.textContent = `Signed in as ${role}`;
    signOut.hidden = false;
  } else if (keysRequired) {
    label.textContent = "Not signed in";
  } else {
    label.textContent = "";
  }
}

async function loadSession() {
  const response = await fetch("/web/whoami", { headers: authHeaders() });
  const data = await response.json();
  if (data.keys_required && !data.role) {
    if (getKey()) {
      sessionStorage.removeItem(KEY_STORE);
      showSignIn("That API key is not recognised. Check it and try again.");
    } else {
      showSignIn();
    }
  }
  applyRole(data.role, data.keys_required);
  return { role: data.role, keysRequired: data.keys_required };
}

function wireSignIn() {
  const form = document.getElementById("sign-in-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = document.getElementById("api-key").value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORE, key);
    window.location.reload();
  });
  document.getElementById("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORE);
    window.location.reload();
  });
}

wireSignIn();
wireDownloads();

/** Resolves to {role, keysRequired} once the key (if any) has been checked. */
export const session = loadSession();

export function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso.length === 10 ? `${iso}T00:00:00` : iso);
  if (Number.isNaN(date.getTime())) return iso;
  const opts = { day: "numeric", month: "long", year: "numeric" };
  if (iso.length > 10) Object.assign(opts, { hour: "2-digit", minute: "2-digit" });
  return date.toLocaleString("en-GB", opts);
}

/** A search page URL for the given parameters (arrays repeat the key). */
export function searchUrl(params) {
  const qs = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (Array.isArray(value)) value.forEach((v) => qs.append(name, v));
    else if (value !== null && value !== undefined && value !== "") qs.append(name, value);
  }
  return `/search?${qs}`;
}

export function themeChip(label, extra = {}) {
  return el("span", { class: "chip", ...extra }, label);
}

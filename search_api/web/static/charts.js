// Charts drawn as inline SVG by hand, so they work offline and can be saved as SVG or PNG.
// Styling is done with presentation attributes, not <style>, so a saved SVG looks the same
// and the page's Content-Security-Policy needs no inline styles.

import { el, saveBlob } from "./common.js";

const SVG_NS = "http://www.w3.org/2000/svg";
// colour-blind-safe (Okabe and Ito), darkened where needed for contrast on white
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8a6d00", "#555555", "#000000", "#7f3c8d"];
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif";
const INK = "#1b1b1b";
const GRID = "#d0d0d0";

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function niceMax(value) {
  if (value <= 5) return Math.max(1, Math.ceil(value));
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return 10 * magnitude;
}

function ticks(max) {
  const count = max <= 5 ? max : 5;
  return Array.from({ length: count + 1 }, (_, i) => (max * i) / count);
}

function truncate(text, chars) {
  return text.length > chars ? `${text.slice(0, chars - 1)}…` : text;
}

/** Bars and cells open their search on click. Keyboard and screen reader users get the same
 * links in the table under each chart, so the drawing itself stays out of the tab order. */
function linkTo(node, href) {
  node.setAttribute("data-href", href);
  node.addEventListener("click", () => {
    window.location.href = href;
  });
}

/**
 * Grouped bars: one group per category, one bar per series.
 * spec: {title, categories: [{key, label}], series: [{id, label}], value(seriesId, key),
 *        yLabel, hrefOf(seriesId, key)}
 */
export function barChart(spec) {
  const { categories, series } = spec;
  const longest = Math.max(0, ...categories.map((c) => c.label.length));
  const labelChars = Math.min(longest, 20);
  const groupWidth = Math.max(28, Math.min(90, 11 * series.length + 14));
  const innerWidth = Math.max(560, categories.length * groupWidth);
  // turn the category labels when they would not fit side by side
  const rotate = longest * 6.6 > innerWidth / Math.max(1, categories.length) - 4;
  const legendColumns = innerWidth >= 520 ? 2 : 1;
  const legendWidth = innerWidth / legendColumns;
  const legendChars = Math.floor((legendWidth - 24) / 6.6);
  const legendRows = Math.ceil(series.length / legendColumns);
  const margin = {
    top: 14 + legendRows * 18,
    right: 16,
    bottom: rotate ? 24 + labelChars * 5 : 36,
    left: rotate ? Math.max(52, labelChars * 5) : 52,
  };
  const innerHeight = 220;
  const width = margin.left + innerWidth + margin.right;
  const height = margin.top + innerHeight + margin.bottom;
  let max = 0;
  for (const s of series) for (const c of categories) max = Math.max(max, spec.value(s.id, c.key));
  const top = niceMax(max);
  const y = (v) => margin.top + innerHeight - (v / top) * innerHeight;
  const root = svg("svg", {
    xmlns: SVG_NS,
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "font-family": FONT,
    "font-size": 12,
    fill: INK,
    class: "chart-svg",
  });
  root.append(svg("title", {}, spec.title));
  root.append(svg("rect", { x: 0, y: 0, width, height, fill: "#ffffff" }));
  for (const t of ticks(top)) {
    root.append(
      svg("line", { x1: margin.left, x2: margin.left + innerWidth, y1: y(t), y2: y(t), stroke: GRID }),
      svg("text", { x: margin.left - 6, y: y(t) + 4, "text-anchor": "end" }, Number.isInteger(t) ? t : t.toFixed(1)),
    );
  }
  root.append(
    svg("text", { x: 12, y: margin.top + innerHeight / 2, transform: `rotate(-90 12 ${margin.top + innerHeight / 2})`, "text-anchor": "middle" }, spec.yLabel),
  );
  const step = innerWidth / Math.max(1, categories.length);
  const barWidth = Math.max(4, (step - 8) / Math.max(1, series.length));
  categories.forEach((cat, ci) => {
    const x0 = margin.left + ci * step + 4;
    series.forEach((s, si) => {
      const value = spec.value(s.id, cat.key);
      if (!value) return;
      const bar = svg(
        "rect",
        {
          x: x0 + si * barWidth,
          y: y(value),
          width: Math.max(1, barWidth - 1),
          height: margin.top + innerHeight - y(value),
          fill: PALETTE[si % PALETTE.length],
          class: "bar",
          "data-series": s.id,
          "data-key": cat.key,
          "data-value": value,
          "aria-label": `${s.label}, ${cat.label}: ${value}`,
        },
        svg("title", {}, `${s.label}, ${cat.label}: ${value}`),
      );
      if (spec.hrefOf) linkTo(bar, spec.hrefOf(s.id, cat.key));
      root.append(bar);
    });
    const lx = margin.left + ci * step + step / 2;
    const ly = margin.top + innerHeight + 16;
    root.append(
      svg(
        "text",
        rotate
          ? { x: lx, y: ly, "text-anchor": "end", transform: `rotate(-40 ${lx} ${ly})` }
          : { x: lx, y: ly, "text-anchor": "middle" },
        truncate(cat.label, 20),
      ),
    );
  });
  root.append(svg("line", { x1: margin.left, x2: margin.left + innerWidth, y1: y(0), y2: y(0), stroke: INK }));
  series.forEach((s, si) => {
    const lx = margin.left + (si % legendColumns) * legendWidth;
    const ly = 6 + Math.floor(si / legendColumns) * 18;
    root.append(
      svg("rect", { x: lx, y: ly, width: 12, height: 12, fill: PALETTE[si % PALETTE.length] }),
      svg("text", { x: lx + 17, y: ly + 11 }, truncate(s.label, legendChars)),
    );
  });
  return root;
}

function luminance(rgb) {
  const f = (v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * f(rgb[0]) + 0.7152 * f(rgb[1]) + 0.0722 * f(rgb[2]);
}

/** Shade from white to dark blue; returns [fill, whichever text colour contrasts more]. */
function shade(ratio) {
  const from = [255, 255, 255];
  const to = [8, 48, 107];
  const rgb = from.map((f, i) => Math.round(f + (to[i] - f) * ratio));
  const bg = luminance(rgb);
  const onWhite = 1.05 / (bg + 0.05);
  const onInk = (bg + 0.05) / (luminance([27, 27, 27]) + 0.05);
  return [`rgb(${rgb.join(",")})`, onWhite > onInk ? "#ffffff" : INK];
}

/**
 * Heat map of a symmetric measure over themes.
 * spec: {title, items: [{id, label}], value(a, b), hrefOf(a, b)}
 */
export function heatMap(spec) {
  const { items } = spec;
  const cell = 40;
  const labelWidth = 200;
  const top = 130;
  const width = labelWidth + items.length * cell + 110;
  const height = top + items.length * cell + 12;
  let max = 0;
  for (const a of items) for (const b of items) if (a.id !== b.id) max = Math.max(max, spec.value(a.id, b.id));
  const root = svg("svg", {
    xmlns: SVG_NS,
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "font-family": FONT,
    "font-size": 12,
    fill: INK,
    class: "chart-svg",
  });
  root.append(svg("title", {}, spec.title));
  root.append(svg("rect", { x: 0, y: 0, width, height, fill: "#ffffff" }));
  items.forEach((item, i) => {
    root.append(svg("text", { x: labelWidth - 6, y: top + i * cell + cell / 2 + 4, "text-anchor": "end" }, truncate(item.label, 27)));
    const cx = labelWidth + i * cell + cell / 2;
    root.append(svg("text", { x: cx, y: top - 6, transform: `rotate(-45 ${cx} ${top - 6})` }, truncate(item.label, 22)));
  });
  items.forEach((a, i) => {
    items.forEach((b, j) => {
      const x = labelWidth + j * cell;
      const yy = top + i * cell;
      if (a.id === b.id) {
        root.append(svg("rect", { x, y: yy, width: cell - 2, height: cell - 2, fill: "#eeeeee" }));
        return;
      }
      const value = spec.value(a.id, b.id);
      const [fill, ink] = shade(max ? value / max : 0);
      const group = svg(
        "g",
        { class: "cell", "data-a": a.id, "data-b": b.id, "data-value": value, "aria-label": `${a.label} with ${b.label}: ${value}` },
        svg("title", {}, `${a.label} with ${b.label}: ${value}`),
        svg("rect", { x, y: yy, width: cell - 2, height: cell - 2, fill, stroke: GRID }),
        svg("text", { x: x + (cell - 2) / 2, y: yy + cell / 2 + 3, "text-anchor": "middle", fill: ink }, value),
      );
      if (value && spec.hrefOf) linkTo(group, spec.hrefOf(a.id, b.id));
      root.append(group);
    });
  });
  return root;
}

function serialise(svgNode) {
  const copy = svgNode.cloneNode(true);
  copy.removeAttribute("class");
  for (const node of copy.querySelectorAll("[data-href]")) node.removeAttribute("data-href");
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(copy)}`;
}

export function downloadSvg(svgNode, name) {
  saveBlob(new Blob([serialise(svgNode)], { type: "image/svg+xml" }), `${name}.svg`);
}

/** Rasterise the SVG at twice its size through a canvas. */
export function downloadPng(svgNode, name) {
  return new Promise((resolve, reject) => {
    const width = Number(svgNode.getAttribute("width"));
    const height = Number(svgNode.getAttribute("height"));
    const image = new Image();
    image.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = width * 2;
      canvas.height = height * 2;
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
      canvas.toBlob((blob) => {
        if (!blob) return reject(new Error("The browser could not make a PNG."));
        saveBlob(blob, `${name}.png`);
        resolve();
      }, "image/png");
    };
    image.onerror = () => reject(new Error("The chart could not be drawn as an image."));
    image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(serialise(svgNode))}`;
  });
}

function csvCell(value) {
  const text = String(value ?? "");
  // a leading = + - @ would be run as a formula by spreadsheet programs
  const safe = /^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function downloadCsv(header, rows, name) {
  const lines = [header, ...rows].map((row) => row.map(csvCell).join(","));
  saveBlob(new Blob([`\ufeff${lines.join("\r\n")}\r\n`], { type: "text/csv" }), `${name}.csv`);
}

/** A table of the chart's numbers: rows by series, a column per category. A non-zero number
 * links to its search when `cellHref(rowIndex, columnIndex)` gives one. */
export function dataTable(caption, header, rows, cellHref) {
  const cell = (v, ri, ci) => {
    const href = cellHref && v ? cellHref(ri, ci) : null;
    return el("td", { class: "num" }, href ? el("a", { href, "aria-label": `${v}: ${rows[ri][0]}, ${header[ci + 1]}` }, String(v)) : v);
  };
  return el(
    "table",
    { class: "data-table" },
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, header.map((h, i) => el("th", { scope: "col", class: i ? "num" : null }, h)))),
    el(
      "tbody",
      {},
      rows.map((row, ri) =>
        el("tr", {}, el("th", { scope: "row" }, row[0]), row.slice(1).map((v, ci) => cell(v, ri, ci))),
      ),
    ),
  );
}

/** The chart, its download buttons and its table, put into `container`. */
export function mountChart(container, { svgNode, name, title, header, rows, tableOpen, cellHref }) {
  container.replaceChildren();
  const tools = el(
    "div",
    { class: "chart-tools" },
    el("button", { type: "button", class: "small", onclick: () => downloadSvg(svgNode, name), "aria-label": `Download ${title} as SVG` }, "SVG"),
    el("button", { type: "button", class: "small", onclick: () => downloadPng(svgNode, name), "aria-label": `Download ${title} as PNG` }, "PNG"),
    el("button", { type: "button", class: "small", onclick: () => downloadCsv(header, rows, name), "aria-label": `Download the data of ${title} as CSV` }, "CSV"),
  );
  // shrink to fit a narrow panel, never stretch past the drawn size
  svgNode.style.maxWidth = `${svgNode.getAttribute("width")}px`;
  svgNode.setAttribute("aria-label", `${title}: chart; the same numbers are in the table below`);
  const scroller = el("div", { class: "chart-scroll" }, svgNode);
  const table = el("details", { class: "chart-table", open: tableOpen ? true : null }, el("summary", {}, "Show the numbers as a table"), el("div", { class: "table-scroll" }, dataTable(title, header, rows, cellHref)));
  container.append(tools, scroller, table);
}

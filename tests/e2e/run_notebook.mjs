// Opens a notebook in a running JupyterLab with the system's headless Chromium,
// runs all its cells, waits for them and for their widgets, and reports what a
// reader would see: error text, plotly traces, pod chips per node, and screenshots.
//
//   node run_notebook.mjs --url http://127.0.0.1:PORT/lab/tree/NB.ipynb?token=T \
//        --out test-artifacts/e2e/NAME [--timeout 240] [--settle 3] \
//        [--api http://127.0.0.1:PORT --token T]   (when --url is not the server's own,
//                                                  e.g. the file:// page JupyterLab opens)
//        [--during "await ch."]   (while a cell whose source has this text runs, sample
//                                  every live view and screenshot one that changes)
//        [--width 1024 --height 768]   (the viewport: a projector's)
//        [--theme dark]           (Settings > Theme > JupyterLab Dark before Run All)
//
// After the run, in a viewport tall enough to lay out every cell, "layout" lists
// what a reader could not read whole (layout_check.mjs): chart text past its chart's
// edge, charts wider than their output area, content past an output area's edge,
// table headers that wrap, text too close in colour to its background.
//
// Prints one JSON object on stdout (also written to OUT/result.json); exits 0
// whenever it could report, so the caller asserts on the JSON. Exit 2: bad usage,
// exit 1: the browser or the page failed before anything could be reported.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { checkLayout } from "./layout_check.mjs";

const ERROR_TEXTS = ["Error displaying widget", "model not found", "Traceback (most recent call last)"];
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function parseArgs(argv) {
  const args = { timeout: 240, settle: 3, width: 1400, height: 1000 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`--${key} needs a value`);
    args[key] = ["timeout", "settle", "width", "height"].includes(key) ? Number(value) : value;
  }
  if (!args.url || !args.out) throw new Error("usage: run_notebook.mjs --url URL --out DIR");
  return args;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Which code cell the kernel runs now (the first one still showing [*]: Run All queues
// every cell as [*], and they run in order), and a fingerprint of each widget output
// (its text, its chips' titles, its SVG shapes): a view that redraws changes its print.
function runningCellAndViews() {
  const panel = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden)");
  const cells = [...(panel?.querySelectorAll(".jp-Notebook .jp-Cell") ?? [])];
  let running = null;
  const views = {};
  cells.forEach((cell, index) => {
    if (!cell.classList.contains("jp-CodeCell")) return;
    const prompt = cell.querySelector(".jp-InputPrompt")?.textContent ?? "";
    if (running === null && prompt.includes("*")) {
      const source = [...cell.querySelectorAll(".jp-InputArea .cm-line")].map((l) => l.textContent);
      running = { index, source: source.join("\n") };
    }
    const widgets = [...cell.querySelectorAll(".jp-OutputArea-output .jupyter-widgets")];
    if (widgets.length === 0) return;
    // Cheap enough to sample several times a second on a busy machine: text (plot
    // titles and axis labels included), chip titles, and how many shapes are drawn.
    views[index] = widgets.map((w) => [
      w.textContent ?? "",
      [...w.querySelectorAll("[title]")].map((t) => t.getAttribute("title")).join("|"),
      w.querySelectorAll("svg path, svg rect").length,
    ].join("#")).join("&");
  });
  return { running, views };
}
// Where cell i's first widget output is, in pixels below the top of the notebook's
// scrolling area (null: no such cell or output).
function viewTop(i) {
  const panel = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden)");
  const scroller = panel?.querySelector(".jp-WindowedPanel-outer");
  const cell = panel?.querySelectorAll(".jp-Notebook .jp-Cell")[i];
  const view = cell?.querySelector(".jp-OutputArea-output .jupyter-widgets") ?? cell;
  if (!scroller || !view) return null;
  return Math.round(view.getBoundingClientRect().top - scroller.getBoundingClientRect().top);
}
// Scroll so that cell i's first widget output is 10 pixels below the top; return how
// far it was from there (null: no such cell).
function placeView(i) {
  const panel = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden)");
  const scroller = panel?.querySelector(".jp-WindowedPanel-outer");
  const cell = panel?.querySelectorAll(".jp-Notebook .jp-Cell")[i];
  const view = cell?.querySelector(".jp-OutputArea-output .jupyter-widgets") ?? cell;
  if (!scroller || !view) return null;
  const by = view.getBoundingClientRect().top - scroller.getBoundingClientRect().top - 10;
  scroller.scrollTop += by;
  return Math.round(by);
}
const elapsed = (start) => Math.round((Date.now() - start) / 100) / 10;

// Everything a test asserts on, read from the DOM in one go. textContent rather than
// innerText: cells scrolled out of view are not laid out (content-visibility).
function readNotebook(errorTexts) {
  const panel = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden)");
  const cells = [...(panel?.querySelectorAll(".jp-Notebook .jp-Cell") ?? [])];
  const out = {
    title: document.querySelector(".jp-mod-current .lm-TabBar-tabLabel")?.textContent ?? "",
    cellCount: cells.length,
    codeCells: [],
    errors: [],
    plots: [],
    nodes: [],
    widgetViews: panel?.querySelectorAll(".jupyter-widgets:not(.jp-OutputArea-output)").length ?? 0,
    loadingWidgets: 0,
  };
  cells.forEach((cell, index) => {
    if (!cell.classList.contains("jp-CodeCell")) return;
    const prompt = cell.querySelector(".jp-InputPrompt")?.textContent?.trim() ?? "";
    const lines = [...cell.querySelectorAll(".jp-InputArea .cm-line")].map((l) => l.textContent);
    // What a reader sees: the text without the widgets' <style> rules.
    const seen = (o) => [...o.querySelectorAll("style")]
      .reduce((text, style) => text.replace(style.textContent, ""), o.textContent ?? "");
    const outputs = [...cell.querySelectorAll(".jp-OutputArea-output")].map((o) => ({
      mime: o.getAttribute("data-mime-type") ?? "",
      text: seen(o).slice(0, 2000),
      length: seen(o).length,
      widgets: o.querySelectorAll(".jupyter-widgets").length,
      result: o.closest(".jp-OutputArea-executeResult") !== null,
    }));
    out.codeCells.push({ index, prompt, firstLine: lines[0] ?? "", source: lines.join("\n"), outputs });
    for (const o of outputs) {
      for (const text of errorTexts) {
        if (o.text.includes(text)) out.errors.push({ cell: index, text: o.text.slice(0, 600) });
      }
      if (o.mime === "application/vnd.jupyter.stderr" && /\w+Error\b/.test(o.text)) {
        out.errors.push({ cell: index, text: o.text.slice(0, 600) });
      }
      if (o.text.includes("Loading widget")) out.loadingWidgets += 1;
    }
    for (const plot of cell.querySelectorAll(".js-plotly-plot")) {
      const box = plot.getBoundingClientRect();
      out.plots.push({
        cell: index,
        traces: plot.querySelectorAll(".plot .trace, .barlayer .trace, .scatterlayer .trace").length,
        legendItems: plot.querySelectorAll(".legend .traces").length,
        legend: [...plot.querySelectorAll(".legend .legendtext")].map((t) => t.textContent),
        points: plot.querySelectorAll(".point, .scatterlayer path.js-line, .scatterlayer .points path").length,
        title: [...plot.querySelectorAll(".gtitle, .annotation-text")].map((t) => t.textContent).join(" | "),
        width: Math.round(box.width),
        height: Math.round(box.height),
      });
    }
    for (const node of cell.querySelectorAll(".course-node[data-node]")) {
      out.nodes.push({
        cell: index,
        node: node.getAttribute("data-node"),
        chips: [...node.querySelectorAll("span[title]")].map((c) => c.textContent.trim()),
      });
    }
  });
  const pageText = document.body.textContent ?? "";
  for (const text of errorTexts.slice(0, 2)) {
    if (pageText.includes(text) && !out.errors.some((e) => e.text.includes(text))) {
      out.errors.push({ cell: null, text });
    }
  }
  return out;
}

async function api(base, token, what) {
  try {
    const response = await fetch(`${base}/api/${what}?token=${encodeURIComponent(token)}`);
    return response.ok ? await response.json() : [];
  } catch {
    return [];
  }
}
const kernels = (base, token) => api(base, token, "kernels");
const sessions = (base, token) => api(base, token, "sessions");

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const target = new URL(args.url);
  const token = args.token ?? target.searchParams.get("token") ?? "";
  const base = args.api ?? target.origin;
  mkdirSync(args.out, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), "e2e-chromium-"));
  const result = { url: `${target.protocol}//${target.host}${target.pathname}`, timings: {}, console: [], screenshots: [] };
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: args.width, height: args.height },
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (msg) => {
      if (msg.type() === "error" && result.console.length < 50) result.console.push(msg.text().slice(0, 500));
    });
    page.on("pageerror", (err) => result.console.push(`pageerror: ${err.message.slice(0, 500)}`));
    const shot = async (name, fn) => {
      const path = join(args.out, `${name}.png`);
      await fn(path);
      result.screenshots.push(path);
    };

    await page.goto(args.url, { waitUntil: "domcontentloaded", timeout: 60_000 });
    await page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first().waitFor({ timeout: 90_000 });
    // A kernel chooser (no matching kernel) would block Run All: accept its default.
    const dialog = page.locator(".jp-Dialog .jp-mod-accept");
    if (await dialog.isVisible().catch(() => false)) await dialog.click();
    result.openedUrl = page.url().replace(/token=[^&]+/, "token=...");
    // The kernel is ready when the server sees this page connected to it and the
    // toolbar's execution indicator says idle; Run All before that is dropped.
    const nbPath = decodeURIComponent(new URL(page.url()).pathname.replace(/^.*?\/tree\//, ""));
    result.notebookPath = nbPath;
    const connected = async () => (await sessions(base, token)).some(
      (s) => s.path === nbPath && s.kernel?.connections > 0 && s.kernel.execution_state === "idle");
    const readyBy = Date.now() + 90_000;
    while (!(await connected()) && Date.now() < readyBy) await sleep(250);
    await page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first()
      .waitFor({ timeout: 30_000 }).catch(() => {});
    result.timings.opened = elapsed(started);
    if (args.theme === "dark") {
      await page.locator(".lm-MenuBar-itemLabel", { hasText: /^Settings$/ }).click();
      await page.locator(".lm-Menu-itemLabel", { hasText: /^Theme$/ }).click();
      await page.locator(".lm-Menu-itemLabel", { hasText: /^JupyterLab Dark$/ }).click();
      await page.waitForFunction(() => document.body.dataset.jpThemeLight === "false", null,
        { timeout: 15_000 });
      await sleep(500);
    }
    await shot("01-opened", (path) => page.screenshot({ path }));

    // Run > Run All Cells, as a reader would; again if no cell was queued after a while.
    const prompts = () => page.evaluate(() =>
      [...document.querySelectorAll(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt")]
        .map((p) => p.textContent.trim()).join(" "));
    const before = await prompts();
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await page.locator(".lm-MenuBar-itemLabel", { hasText: /^Run$/ }).click();
      await page.locator(".lm-Menu-itemLabel", { hasText: /^Run All Cells$/ }).click();
      result.runAllClicks = attempt;
      const clicked = Date.now();
      while ((await prompts()) === before && Date.now() - clicked < 5000) await sleep(200);
      if ((await prompts()) !== before) break;
    }
    const runStart = Date.now();
    const deadline = runStart + args.timeout * 1000;
    let idleSince = null;
    let state = null;
    // --during: each matching cell while it runs, the views it saw at its start and
    // every view that drew something else before it ended (the view stayed live).
    result.during = [];
    let watching = null;
    const sampleDuring = async () => {
      const now = await page.evaluate(runningCellAndViews);
      const cell = now.running;
      if (watching && (!cell || cell.index !== watching.cell)) {
        watching.endedAfter = elapsed(watching.startedAt);
        delete watching.first;
        delete watching.startedAt;
        result.during.push(watching);
        watching = null;
      }
      if (!cell || !cell.source.includes(args.during)) return false;
      if (!watching) {
        watching = { cell: cell.index, firstLine: cell.source.split("\n")[0], samples: 0,
          changed: [], screenshots: [], first: now.views, startedAt: Date.now() };
      }
      watching.samples += 1;
      const fresh = Object.entries(now.views)
        .map(([view, print]) => [Number(view), print])
        .filter(([index, print]) => index < watching.cell && !watching.changed.includes(index)
          && watching.first[index] !== undefined && watching.first[index] !== print)
        .map(([index]) => index);
      watching.changed.push(...fresh);
      if (fresh.length > 0 && watching.screenshots.length === 0) {
        // At once, the page scrolled to the first view that drew something new (a page
        // shot: an element shot may clip a cell whose layout is still moving); then
        // check that the wait was still running when it was taken.
        const index = fresh[0];
        const name = `04-during-cell-${String(watching.cell).padStart(2, "0")}-view-${String(index).padStart(2, "0")}`;
        const path = join(args.out, `${name}.png`);
        // Cells laid out as they come into view (content-visibility) move the view again,
        // during the shot too: place it, shoot, and keep the shot only if the view was at
        // the top of the notebook before and after it; else place it and shoot again.
        let placed = null;
        for (let attempt = 1; attempt <= 4 && !placed?.inView; attempt += 1) {
          for (let tries = 0; tries < 6; tries += 1) {
            const off = await page.evaluate(placeView, index);
            await sleep(150);
            if (off !== null && Math.abs(off) < 8) break;
          }
          const before = await page.evaluate(viewTop, index);
          const taken = await shot(name, (p) => page.screenshot({ path: p })).then(() => true, () => false);
          const after = await page.evaluate(viewTop, index);
          placed = { taken, attempt, top: before, moved: after === null || before === null ? null : after - before,
            inView: taken && before !== null && after !== null && before >= 0 && before < 120 && Math.abs(after - before) < 4 };
        }
        const now2 = await page.evaluate(runningCellAndViews);
        if (placed?.taken) {
          watching.screenshots.push({ path, view: index, duringWait: now2.running?.index === watching.cell,
            inView: placed.inView, top: placed.top, moved: placed.moved, attempts: placed.attempt });
        }
      }
      return true;
    };
    await sleep(500);
    while (Date.now() < deadline) {
      if (args.during) {
        // While a watched cell runs, do nothing but sample it: a wait may last a second.
        let sampled = false;
        while ((await sampleDuring()) && Date.now() < deadline) {
          sampled = true;
          await sleep(50);
        }
        if (!sampled) await sleep(250);
      }
      state = await page.evaluate(readNotebook, ERROR_TEXTS);
      const busyCells = state.codeCells.filter((c) => c.prompt.includes("*")).length;
      const busyKernels = (await kernels(base, token)).filter((k) => k.execution_state !== "idle").length;
      if (busyCells === 0 && busyKernels === 0) {
        idleSince ??= Date.now();
        if (Date.now() - idleSince > 1000) break;
      } else {
        idleSince = null;
      }
      if (!args.during) await sleep(500);
    }
    if (watching) result.during.push({ ...watching, first: undefined, endedAfter: null });
    result.timedOut = Date.now() >= deadline;
    result.timings.ran = elapsed(runStart);
    // Let widgets finish rendering, then read the page.
    const settleEnd = Date.now() + args.settle * 1000;
    do {
      await sleep(500);
      state = await page.evaluate(readNotebook, ERROR_TEXTS);
    } while (Date.now() < settleEnd || (state.loadingWidgets > 0 && Date.now() < settleEnd + 20_000));
    Object.assign(result, state);

    // Screenshots: the view after the run; the notebook page by page from the top, as a
    // reader scrolls it; then, in one tall viewport, each cell that shows a widget.
    await shot("02-after-run", (path) => page.screenshot({ path }));
    const scroller = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer";
    const scrollTo = (top) => page.evaluate(([sel, y]) => {
      const el = document.querySelector(sel);
      if (!el) return { top: 0, height: 0, view: 0 };
      el.scrollTo(0, y);
      return { top: el.scrollTop, height: el.scrollHeight, view: el.clientHeight };
    }, [scroller, top]);
    let where = await scrollTo(0);
    for (let n = 1; n <= 30; n += 1) {
      await sleep(400);
      await shot(`03-page-${String(n).padStart(2, "0")}`, (path) => page.screenshot({ path }));
      if (where.top + where.view >= where.height - 2) break;
      where = await scrollTo(where.top + where.view - 80);
    }
    const height = (await scrollTo(0)).height;
    await page.setViewportSize({ width: args.width, height: Math.min(Math.max(height + 250, args.height), 12_000) });
    await sleep(1500);
    result.layout = await page.evaluate(checkLayout);
    const widgetCells = page.locator(".jp-Notebook .jp-CodeCell:has(.jupyter-widgets)");
    const count = await widgetCells.count();
    for (let i = 0; i < count; i += 1) {
      const cellIndex = await widgetCells.nth(i).evaluate((el) =>
        [...el.closest(".jp-Notebook").querySelectorAll(".jp-Cell")].indexOf(el));
      await shot(`widget-cell-${String(cellIndex).padStart(2, "0")}`, (path) =>
        widgetCells.nth(i).screenshot({ path }));
    }
    result.timings.total = elapsed(started);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
  writeFileSync(join(args.out, "result.json"), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  process.stderr.write(`run_notebook: ${err.stack ?? err}\n`);
  process.exit(err.message?.startsWith("usage") || err.message?.includes("needs a value") ? 2 : 1);
});

// Opens a notebook in JupyterLab with headless Chromium, runs all its cells, then
// records when the widgets' DOM shows each change: a node cordoned or uncordoned
// (PodsPerNode: a card's text or a tile's title says "cordoned"), a pod Ready (a
// chip titled "<ns>/<pod>: Running" without "not ready"), a Job's succeeded count
// (JobProgress's panel title "N/M"). Prints READY once the views are drawn, and on
// a line "DONE" on stdin prints {"log": [[epoch ms, key], ...], "wire": [[epoch ms
// received, epoch ms the kernel sent it, key], ...]} and exits.
//
// "wire" splits the time: each kernel message the page receives on its websocket is
// read as it arrives (before JupyterLab handles it) for the same keys (a comm message
// updating the board's HTML or the chart), with the kernel's own send time (the
// message header's date). So kernel sent -> received is the transport, received ->
// DOM the browser's work (widget manager, plotly).
//
//   node browser_latency.mjs --url URL   (run from tests/e2e for playwright-core)
import { createInterface } from "node:readline";
import { createRequire } from "node:module";
const require = createRequire(`${process.env.E2E_DIR}/`);
const { chromium } = require("playwright-core");

const url = process.argv[process.argv.indexOf("--url") + 1];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Installed before the page loads: note every kernel message's arrival, its header
// date and the keys it carries (the same keys as observe() reads from the DOM).
function wireTap() {
  const wire = [];
  window.__latencyWire = wire;
  const decoder = new TextDecoder();
  const keysIn = (text) => {
    const keys = [];
    const html = text.replace(/\\"/g, '"');
    for (const m of html.matchAll(/<span title="([^"]+)"[^>]*>([^<]*)<\/span>/g)) {
      const [title, label] = [m[1], m[2]];
      if (!title.includes(": ")) continue;
      const pod = title.split(":")[0];
      const ready = title.endsWith(": Running") && !label.includes("not ready");
      keys.push(`ready:${pod}=${ready ? "yes" : "no"}`);
    }
    for (const m of html.matchAll(/<b>([^<]+)<\/b><br>(?:Running|Complete|Pending|Failed|deleted|Suspended), (\d+)\/(\d+)/g)) {
      keys.push(`job:${m[1]}=${m[2]}`);
    }
    return keys;
  };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        const now = performance.timeOrigin + performance.now();
        const text = typeof event.data === "string" ? event.data : decoder.decode(event.data);
        if (!text.includes("comm_msg")) return;
        // The header's date: the first one in a v1 (binary) message, where the header
        // follows the channel; a JSON message says which is the header.
        let date = null;
        if (typeof event.data === "string") {
          try { date = JSON.parse(text).header?.date ?? null; } catch { date = null; }
        } else {
          date = /"date":\s*"([^"]+)"/.exec(text)?.[1] ?? null;
        }
        const sent = date ? Date.parse(date) : null;
        for (const key of keysIn(text)) wire.push([now, sent, key]);
      });
    }
  };
}

function observe() {
  const log = [];
  const last = new Map();
  const note = (key, value) => {
    if (last.get(key) === value) return;
    last.set(key, value);
    log.push([performance.timeOrigin + performance.now(), `${key}=${value}`]);
  };
  const scan = () => {
    for (const node of document.querySelectorAll(".course-node[data-node]")) {
      const text = `${node.textContent} ${node.getAttribute("title") ?? ""}`;
      note(`cordon:${node.getAttribute("data-node")}`, text.includes("cordoned") ? "on" : "off");
    }
    for (const chip of document.querySelectorAll(".course-node span[title]")) {
      const title = chip.getAttribute("title");
      const pod = title.split(":")[0];
      const ready = title.endsWith(": Running") && !chip.textContent.includes("not ready");
      note(`ready:${pod}`, ready ? "yes" : "no");
    }
    for (const text of document.querySelectorAll(".js-plotly-plot .annotation-text")) {
      const m = /^(\S+?)(?:Running|Complete|Pending|Failed|deleted|Suspended), (\d+)\/(\d+)/.exec(text.textContent);
      if (m) note(`job:${m[1]}`, m[2]);
    }
  };
  scan();
  new MutationObserver(scan).observe(document.body, {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
  window.__latencyLog = log;
}

const context = await chromium.launchPersistentContext(`/tmp/latency-chromium-${process.pid}`, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  viewport: { width: 1024, height: 768 },
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.addInitScript(wireTap);
  await page.goto(url, { waitUntil: "domcontentloaded", timeout: 60_000 });
  await page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first().waitFor({ timeout: 90_000 });
  await page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first()
    .waitFor({ timeout: 60_000 }).catch(() => {});
  await sleep(2000);
  await page.locator(".lm-MenuBar-itemLabel", { hasText: /^Run$/ }).click();
  await page.locator(".lm-Menu-itemLabel", { hasText: /^Run All Cells$/ }).click();
  await page.locator(".course-node[data-node]").first().waitFor({ timeout: 120_000 });
  await page.locator(".js-plotly-plot").first().waitFor({ timeout: 60_000 });
  await page.evaluate(observe);
  process.stdout.write("READY\n");
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line.trim() === "DONE") break;
  const log = await page.evaluate(() => window.__latencyLog);
  const wire = await page.evaluate(() => window.__latencyWire);
  process.stdout.write(`${JSON.stringify({ log, wire })}\n`);
} finally {
  await context.close();
}

// Opens a notebook in JupyterLab with headless Chromium, runs all its cells, then
// records when the widgets' DOM shows each change: a node cordoned or uncordoned
// (PodsPerNode: a card's text or a tile's title says "cordoned"), a pod Ready (a
// chip titled "<ns>/<pod>: Running" without "not ready"), a Job's succeeded count
// (JobProgress's panel title "N/M"). Prints READY once the views are drawn, and on
// a line "DONE" on stdin prints {"log": [[epoch ms, key], ...]} and exits.
//
//   node browser_latency.mjs --url URL   (run from tests/e2e for playwright-core)
import { createInterface } from "node:readline";
import { createRequire } from "node:module";
const require = createRequire(`${process.env.E2E_DIR}/`);
const { chromium } = require("playwright-core");

const url = process.argv[process.argv.indexOf("--url") + 1];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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
  process.stdout.write(`${JSON.stringify({ log })}\n`);
} finally {
  await context.close();
}

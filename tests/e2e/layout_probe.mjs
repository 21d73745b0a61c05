// Runs layout_check.mjs's checkLayout on a static page in headless Chromium and prints
// its result as JSON (test_layout_check.py: each check can fail).
//   node layout_probe.mjs --page FILE.html [--width 1024]
import { chromium } from "playwright-core";
import { checkLayout } from "./layout_check.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage({ viewport: { width: Number(arg("width", 1024)), height: 768 } });
  await page.goto(`file://${arg("page")}`);
  process.stdout.write(`${JSON.stringify(await page.evaluate(checkLayout))}\n`);
} finally {
  await browser.close();
}

// Reopens a past session's page (roomtone serve) and searches it, as a reader would.
// node past_session.mjs URL "search term" OUT_DIR   -> one JSON object
import { join } from "node:path";
import { chromium } from "playwright-core";

const [url, term, outDir] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const result = {};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("status").textContent !== "Connecting…");
  await page.waitForTimeout(500);
  result.status = await page.textContent("#status");
  result.mic_hidden = await page.$eval("#mic", (el) => el.hidden);
  result.rename_hidden = await page.$$eval("#legend form", (els) => els.every((f) => f.hidden));
  result.people_hidden = await page.$eval("#people-form", (el) => el.hidden);
  const visible = () => page.$$eval("#captions > *", (els) =>
    els.filter((el) => !el.classList.contains("hidden")).map((el) => el.textContent));
  result.total = (await visible()).length;
  await page.fill("#search", term);
  result.found = await visible();
  result.count_text = await page.textContent("#search-count");
  await page.screenshot({ path: join(outDir, "past-search.png"), fullPage: true });
  await page.fill("#search", "");
  result.after_clear = (await visible()).length;
} catch (err) {
  result.error = String(err && err.stack || err);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));

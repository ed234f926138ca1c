// Plays a meeting into roomtone's page as Chromium's fake microphone, over WebRTC, and
// reports what a reader would see: captions, speaker colours, sounds, an answer and
// where its citation leads, contrast in every theme, 200% zoom, keyboard reach.
//
// node meeting_in_chromium.mjs URL AUDIO.wav SECONDS OUT_DIR "question"
// Prints one JSON object. Screenshots go to OUT_DIR.
import { join } from "node:path";
import { chromium } from "playwright-core";

const [url, audio, secondsArg, outDir, question] = process.argv.slice(2);
const seconds = Number(secondsArg);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Playwright gives the browser a fresh temporary profile (--user-data-dir) and --headless.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${audio}`,
    "--autoplay-policy=no-user-gesture-required", "--allow-loopback-in-peer-connection",
  ],
});
const result = { console: [] };
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("console", (m) => result.console.push(`${m.type()}: ${m.text()}`));
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("status").textContent === "Live");

  // The microphone: the page offers WebRTC, the server answers.
  await page.click("#mic");
  await page.waitForFunction(
    () => /microphone is on|Microphone:/.test(document.getElementById("status").textContent),
    null, { timeout: 20000 });
  result.mic_status = await page.textContent("#status");
  const started = Date.now();
  const delays = [];
  while (Date.now() - started < seconds * 1000) {
    await sleep(2000);
    const d = await page.getAttribute("#delay", "data-seconds");
    if (d !== null) delays.push(Number(d));
  }
  result.delays = delays;
  await page.click("#mic");  // stop sending: the fake device would loop the file
  await sleep(8000);  // the last captions settle
  await page.screenshot({ path: join(outDir, "captions.png"), fullPage: true });

  result.captions = await page.$$eval("#captions .cap.final", (els) =>
    els.map((el) => ({ start: Number(el.dataset.start), speaker: el.dataset.speaker,
      text: el.querySelector(".text").textContent })));
  result.partials_left = await page.$$eval("#captions .cap.partial", (els) => els.length);
  result.sounds = await page.$$eval("#captions .sound", (els) => els.map((el) => el.textContent));
  result.speaker_colours = await page.$$eval("#legend li", (els) => els.map((li) => ({
    speaker: li.dataset.speaker, colour: getComputedStyle(li.querySelector(".who")).color })));
  result.live_region = await page.$eval("#captions", (el) => ({
    role: el.getAttribute("role"), live: el.getAttribute("aria-live") }));

  // A question, its answer, and the citation it leads to.
  await page.fill("#ask-input", question);
  await page.press("#ask-input", "Enter");
  await page.waitForSelector(".answer[data-done='true'], .answer .a.error", { timeout: 300000 });
  result.answer = await page.textContent(".answer .a");
  // Follow each citation in the answer: where does the caption log go?
  result.citations = [];
  for (const cite of await page.$$(".answer .cite")) {
    const cited = Number(await cite.getAttribute("data-seconds"));
    await cite.click();
    await sleep(500);
    const jumped = await page.$eval("#captions .found", (el) => {
      const log = document.getElementById("captions").getBoundingClientRect();
      const box = el.getBoundingClientRect();
      return { start: Number(el.dataset.start), text: el.textContent,
        visible: box.top >= log.top && box.bottom <= log.bottom };
    }).catch(() => null);
    result.citations.push({ cited, jumped });
  }
  await page.screenshot({ path: join(outDir, "answer.png"), fullPage: true });

  // "What did I miss?" after scrolling up: asked since the moment the reader left.
  await page.click("#pause");  // resume following, then scroll away from the end
  await page.$eval("#captions", (el) => { el.scrollTop = 0; });
  await sleep(300);
  await page.click("#missed");
  await page.waitForSelector("#answer-q2[data-done='true'], #answer-q2 .a.error", { timeout: 300000 });
  result.missed = { question: await page.textContent("#answer-q2 .q"),
    answer: await page.textContent("#answer-q2 .a") };

  // Who is here: the presenter lists the meeting's people; the page shows them to all.
  await page.fill("#people-input", "Alice, Bob, Carol");
  await page.press("#people-input", "Enter");
  await page.waitForFunction(() => !document.getElementById("people").hidden, null,
    { timeout: 10000 });
  result.people = await page.textContent("#people");

  // Contrast of every kind of text against what is behind it, in every theme.
  await page.click("#help-toggle");
  result.contrast = {};
  for (const theme of ["dark", "light", "contrast"]) {
    await page.selectOption("#theme", theme);
    result.contrast[theme] = await page.evaluate(() => {
      const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
      const lum = ([r, g, b]) => {
        const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
      };
      const background = (el) => {
        for (let n = el; n; n = n.parentElement) {
          const c = rgb(getComputedStyle(n).backgroundColor);
          if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
        }
        return [255, 255, 255];
      };
      const worst = {};
      const selectors = ["h1", "#status", "#delay", "button", ".button", "select", "label",
        "#ask-input", ".cap .text", ".cap.partial .text", ".cap .time", ".who", ".flag",
        ".sound", ".answer .a", ".answer .q", ".cite", "h2", "#people"];
      for (const sel of selectors) {
        for (const el of document.querySelectorAll(sel)) {
          if (!el.offsetParent && el.tagName !== "BODY") continue;
          const fg = lum(rgb(getComputedStyle(el).color)), bg = lum(background(el));
          const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
          worst[sel] = Math.min(worst[sel] ?? 99, Math.round(ratio * 100) / 100);
        }
      }
      return worst;
    });
    await page.screenshot({ path: join(outDir, `theme-${theme}.png`) });
  }
  await page.selectOption("#theme", "dark");

  // 200%: the reader's text size at 200%, and the browser zoomed to 200% (half the width).
  await page.selectOption("#font-size", "200");
  const overflow = () => page.evaluate(() =>
    document.documentElement.scrollWidth - document.documentElement.clientWidth);
  result.overflow_text_200 = await overflow();
  await page.screenshot({ path: join(outDir, "text-200.png") });
  await page.selectOption("#font-size", "100");
  await page.setViewportSize({ width: 640, height: 450 });  // what 200% zoom leaves of 1280
  result.overflow_zoom_200 = await overflow();
  await page.screenshot({ path: join(outDir, "zoom-200.png") });
  await page.setViewportSize({ width: 1280, height: 900 });

  // Settings persist across a reload.
  await page.selectOption("#theme", "light");
  await page.reload();
  await page.waitForFunction(() => document.getElementById("status").textContent !== "Connecting…");
  result.theme_after_reload = await page.evaluate(() => document.documentElement.dataset.theme);

  // Keyboard: from the top of the page, Tab reaches every control (reader settings open).
  await page.click("#help-toggle");
  result.controls = await page.$$eval(
    "button:not([hidden]):not([disabled]), select, input, a.button",
    (els) => els.filter((el) => el.offsetParent).map((el) => el.id || el.getAttribute("aria-label") || el.textContent));
  // Tab on, round the end of the page and back to the top, until the first stop repeats.
  const reached = [];
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press("Tab");
    const key = await page.evaluate(() => {
      const el = document.activeElement;
      return el === document.body ? null : el.id || el.getAttribute("aria-label") || el.textContent;
    });
    if (key === null) continue;
    if (reached.length > 1 && key === reached[0]) break;
    if (!reached.includes(key)) reached.push(key);
  }
  result.reached = reached;
} catch (err) {
  result.error = String(err && err.stack || err);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));

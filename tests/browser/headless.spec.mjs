// Browser test of examples/headless, the static KQL front-end the example site serves at
// /headless/: in Debian's Chromium (playwright-core) it signs in with a same-site session,
// renders the journal from one `POST /api/query` (site title, signed-in user, a page of
// posts with date, excerpt, tags and image URL), pages through it, and signs out. Prints one
// line per check and `browser: N passed, M failed`.

import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { assert, check, copySite, folioBinary, repo, startFolio, tally } from "./lib.mjs";

const EMAIL = "admin@example.com";
const PASSWORD = "folio-demo-1";
const SCREENSHOT = path.join(repo, "target/browser/headless.png");

async function main() {
  const { dir, root } = copySite();
  let server = null;
  let browser = null;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "folio-chromium-"));
  try {
    server = await startFolio(root);
    const { base } = server;
    console.log(`# folio ${folioBinary()} on ${base}, site copy ${root}`);
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      headless: true,
      viewport: { width: 900, height: 900 },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
    });
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    const queries = [];
    page.on("request", (r) => {
      if (r.url().endsWith("/api/query")) queries.push(r);
    });

    await check("/headless/ is served as a static page and asks to sign in", async () => {
      const resp = await page.goto(base + "/headless/");
      assert(resp.status() === 200, `status ${resp.status()}`);
      await page.waitForSelector("#login:not([hidden])", { timeout: 10_000 });
      assert(await page.locator("#journal").isHidden(), "no journal before signing in");
      assert(queries.length === 1, `one KQL request was tried: ${queries.length}`);
    });

    await check("KQL without a session is refused", async () => {
      const status = await page.evaluate(async () => {
        const r = await fetch("/api/query", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ query: "site.title" }),
        });
        return r.status;
      });
      assert(status === 401, `status ${status}`);
    });

    await check("a wrong password shows the API's error", async () => {
      await page.fill("#email", EMAIL);
      await page.fill("#password", "wrong-password-1");
      await page.click("#login button[type=submit]");
      const box = page.locator("#error");
      await box.waitFor({ state: "visible", timeout: 15_000 });
      assert(/Invalid login/.test(await box.textContent()), await box.textContent());
    });

    await check("signing in renders the newest post through KQL", async () => {
      await page.fill("#password", PASSWORD);
      await page.click("#login button[type=submit]");
      await page.waitForSelector('#posts li[data-id="blog/tides"]', { timeout: 15_000 });
      assert(await page.locator("#login").isHidden(), "the sign-in form is gone");
      assert((await page.textContent("#site-title")) === "Folio Example", "site title");
      assert((await page.textContent("#who")) === EMAIL, "signed-in user from kirby.user");
      const li = page.locator('#posts li[data-id="blog/tides"]');
      assert((await li.locator("h3").textContent()) === "Reading the Tides", "title");
      assert((await li.locator("time").textContent()) === "2025-04-02", "date via toDate");
      assert((await li.locator(".tags").textContent()) === "#sea", "tags via split");
      assert((await page.textContent("#page-info")) === "page 1 of 2 (2 posts)", await page.textContent("#page-info"));
      const last = queries[queries.length - 1];
      assert(last.headers()["x-csrf"], "the KQL request carries X-CSRF");
      const body = JSON.parse(last.postData());
      assert(body.queries && body.queries.posts.pagination.limit === 1, last.postData());
    });

    await check("the next page shows the older post with its image", async () => {
      await page.click("#next");
      await page.waitForSelector('#posts li[data-id="blog/first-light"]', { timeout: 15_000 });
      const img = page.locator('#posts li[data-id="blog/first-light"] img');
      const src = await img.getAttribute("src");
      assert(src && src.includes("lamp.png"), `image url: ${src}`);
      const loaded = await img.evaluate((el) => el.complete && el.naturalWidth > 0);
      assert(loaded, "the image URL loads");
      assert(await page.locator("#next").isDisabled(), "no older page");
      assert(!(await page.locator("#prev").isDisabled()), "a newer page");
    });

    await check("drafts are not in the journal", async () => {
      const ids = await page.evaluate(async () => {
        const csrf = (await (await fetch("/csrf")).json()).csrf;
        const r = await fetch("/api/query", {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF": csrf },
          body: JSON.stringify({ query: 'page("blog").children.listed' }),
        });
        return (await r.json()).result;
      });
      assert(JSON.stringify(ids) === JSON.stringify(["blog/first-light", "blog/tides"]), JSON.stringify(ids));
    });

    await check("the screenshot is saved", async () => {
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      assert(fs.statSync(SCREENSHOT).size > 1000, "screenshot written");
    });

    await check("signing out returns to the sign-in form and KQL is refused again", async () => {
      await page.click("#logout");
      await page.waitForSelector("#login:not([hidden])", { timeout: 10_000 });
      const status = await page.evaluate(async () => {
        const csrf = (await (await fetch("/csrf")).json()).csrf;
        const r = await fetch("/api/query", {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF": csrf },
          body: JSON.stringify({ query: "site.title" }),
        });
        return r.status;
      });
      assert(status === 401, `after logout: ${status}`);
    });

    await check("no JavaScript errors on the page", async () => {
      assert(errors.length === 0, errors.join("\n"));
    });
  } catch (e) {
    tally.failed++;
    console.log(`not ok - setup\n  ${String((e && e.stack) || e).split("\n").join("\n  ")}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) {
      server.child.kill("SIGTERM");
      if (tally.failed > 0 && server.log.length) console.log(`# server log:\n${server.log.join("")}`);
    }
    fs.rmSync(profile, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`browser: ${tally.passed} passed, ${tally.failed} failed`);
  process.exit(tally.failed === 0 ? 0 : 1);
}

main();

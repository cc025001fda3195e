// Browser test of the example site's /app page: the Kirby docs' same-site single-page app
// (session cookie + CSRF token from <meta name="csrf-token">), driven in Debian's Chromium
// by playwright-core. A plain node script: it prints one line per check and a final
// `browser: N passed, M failed`, and exits non-zero when anything failed.
//
// Environment: FOLIO_BIN (the folio binary; default: the newest of target/release/folio and
// target/debug/folio), CHROMIUM (default /usr/bin/chromium).

import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { assert, check, copySite, folioBinary, repo, startFolio, tally } from "./lib.mjs";

const EMAIL = "admin@example.com";
const PASSWORD = "folio-demo-1";
const NEW_TITLE = "First Light, edited in Chromium";
const POST_FILE = "content/1_blog/20250301_first-light/post.txt";
const SCREENSHOT = path.join(repo, "target/browser/app.png");

function titleOnDisk(root) {
  const text = fs.readFileSync(path.join(root, POST_FILE), "utf8");
  const m = text.match(/^Title:\s*(.*)$/m);
  return m ? m[1].trim() : null;
}

async function main() {
  const { dir, root } = copySite();
  let server = null;
  let browser = null;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "folio-chromium-"));
  try {
    server = await startFolio(root);
    const { base } = server;
    console.log(`# folio ${folioBinary()} on ${base}, site copy ${root}`);

    // A fresh profile (--user-data-dir) for every run: Playwright passes it itself.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      headless: true,
      viewport: { width: 1000, height: 900 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const context = browser;
    const page = await context.newPage();
    const consoleErrors = [];
    page.on("pageerror", (e) => consoleErrors.push(String(e)));

    await check("/app renders with a CSRF meta tag and the sign-in form", async () => {
      const resp = await page.goto(base + "/app");
      assert(resp.status() === 200, `status ${resp.status()}`);
      const token = await page.getAttribute('meta[name="csrf-token"]', "content");
      assert(/^[0-9a-f]{64}$/.test(token || ""), `csrf meta: ${token}`);
      await page.waitForSelector("#login-form:not([hidden])", { timeout: 10_000 });
      const cookies = await context.cookies(base);
      const session = cookies.find((c) => c.name === "kirby_session");
      assert(session && session.httpOnly, "an HttpOnly session cookie was set by csrf()");
    });

    await check("a wrong password shows an error and no page list", async () => {
      await page.fill("#email", EMAIL);
      await page.fill("#password", "wrong-password-1");
      await page.click("#login-button");
      const box = page.locator("#app-error");
      await box.waitFor({ state: "visible", timeout: 15_000 });
      const text = await box.textContent();
      assert(/Invalid login/.test(text), `error text: ${text}`);
      assert(await page.locator("#editor").isHidden(), "the editor stays hidden");
    });

    await check("an API request without the X-CSRF header is refused (401)", async () => {
      const result = await page.evaluate(async () => {
        const r = await fetch("/api/site/children", { credentials: "same-origin" });
        return { status: r.status, body: await r.json() };
      });
      assert(result.status === 401, `status ${result.status}: ${JSON.stringify(result.body)}`);
    });

    await check("signing in shows the site's pages", async () => {
      await page.fill("#email", EMAIL);
      await page.fill("#password", PASSWORD);
      await page.click("#login-button");
      await page.waitForSelector('#pages li[data-id="blog/first-light"]', { timeout: 15_000 });
      assert(await page.locator("#app-error").isHidden(), "the old error is cleared");
      const ids = await page.$$eval("#pages li", (lis) => lis.map((li) => li.dataset.id));
      for (const id of ["home", "blog", "blog/first-light", "blog/tides", "about", "app"]) {
        assert(ids.includes(id), `page list has ${id}: ${ids.join(", ")}`);
      }
      assert(!ids.includes("upcoming"), "drafts are not in site/children");
      const who = await page.textContent("#signed-in");
      assert(who === EMAIL, `signed in as ${who}`);
    });

    await check("the same request without X-CSRF is still refused after login (401)", async () => {
      const status = await page.evaluate(async () => {
        const r = await fetch("/api/pages/blog", { credentials: "same-origin" });
        return r.status;
      });
      assert(status === 401, `status ${status}`);
      const withToken = await page.evaluate(async () => {
        const csrf = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch("/api/pages/blog", { headers: { "X-CSRF": csrf } });
        return r.status;
      });
      assert(withToken === 200, `with the token: ${withToken}`);
    });

    await check("editing a title saves it and it is persisted on disk", async () => {
      const row = page.locator('#pages li[data-id="blog/first-light"]');
      await row.locator("input.title-input").fill(NEW_TITLE);
      await row.locator("button.save").click();
      await row.locator(".row-status", { hasText: "Saved" }).waitFor({ timeout: 15_000 });
      const onDisk = titleOnDisk(root);
      assert(onDisk === NEW_TITLE, `title in ${POST_FILE}: ${onDisk}`);
    });

    await check("an empty title shows the API's error message", async () => {
      const row = page.locator('#pages li[data-id="blog/tides"]');
      await row.locator("input.title-input").evaluate((el) => {
        el.required = false;
        el.value = "   ";
      });
      await row.locator("button.save").click();
      const box = page.locator("#app-error");
      await box.waitFor({ state: "visible", timeout: 15_000 });
      const text = await box.textContent();
      assert(/blog\/tides/.test(text), `error text: ${text}`);
      assert(titleOnDisk(root) === NEW_TITLE, "the other page is untouched");
    });

    await check("the screenshot is saved", async () => {
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      assert(fs.statSync(SCREENSHOT).size > 1000, "screenshot written");
    });

    await check("the rendered post shows the new title", async () => {
      const other = await context.newPage();
      const resp = await other.goto(base + "/blog/first-light");
      assert(resp.status() === 200, `status ${resp.status()}`);
      const h1 = await other.textContent("article.post h1");
      assert(h1 === NEW_TITLE, `h1: ${h1}`);
      await other.close();
    });

    await check("signing out returns to the sign-in form", async () => {
      await page.click("#logout");
      await page.waitForSelector("#login-form:not([hidden])", { timeout: 10_000 });
      const status = await page.evaluate(async () => {
        const csrf = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch("/api/pages/blog", { headers: { "X-CSRF": csrf } });
        return r.status;
      });
      assert(status === 401, `after logout: ${status}`);
    });

    await check("no JavaScript errors on the page", async () => {
      assert(consoleErrors.length === 0, consoleErrors.join("\n"));
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

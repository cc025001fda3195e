// Browser test of the example site's /app page: the Kirby docs' same-site single-page app
// (session cookie + CSRF token from <meta name="csrf-token">), driven in Debian's Chromium
// by playwright-core. A plain node script: it prints one line per check and a final
// `browser: N passed, M failed`, and exits non-zero when anything failed.
//
// Environment: FOLIO_BIN (the folio binary; default: the newest of target/release/folio and
// target/debug/folio), CHROMIUM (default /usr/bin/chromium).

import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const EMAIL = "admin@example.com";
const PASSWORD = "folio-demo-1";
const NEW_TITLE = "First Light, edited in Chromium";
const POST_FILE = "content/1_blog/20250301_first-light/post.txt";
const SCREENSHOT = path.join(repo, "target/browser/app.png");

let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}\n  ${String((e && e.stack) || e).split("\n").join("\n  ")}`);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function folioBinary() {
  if (process.env.FOLIO_BIN) return process.env.FOLIO_BIN;
  const candidates = ["release", "debug"]
    .map((p) => path.join(repo, "target", p, "folio"))
    .filter((p) => fs.existsSync(p))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (candidates.length === 0) {
    throw new Error("no folio binary: run `cargo build -p folio` or set FOLIO_BIN");
  }
  return candidates[0];
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A private copy of examples/site (without sessions, login trials or media caches). */
function copySite() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "folio-browser-"));
  const root = path.join(dir, "site");
  fs.cpSync(path.join(repo, "examples/site"), root, {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(path.join(repo, "examples/site"), src);
      return !(
        rel === path.join("site", "sessions") ||
        rel.startsWith(path.join("site", "sessions") + path.sep) ||
        rel === path.join("site", "accounts", ".logins") ||
        rel === "media" ||
        rel.startsWith("media" + path.sep)
      );
    },
  });
  return { dir, root };
}

async function startFolio(root) {
  const bin = folioBinary();
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const log = [];
    const child = spawn(bin, ["serve", root, "--listen", `127.0.0.1:${port}`], {
      env: { ...process.env, FOLIO_LOG: "warn" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr.on("data", (d) => log.push(String(d)));
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const r = await fetch(base + "/assets/css/site.css");
        if (r.ok) return { child, base, log };
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill("SIGKILL");
    console.log(`# folio did not start on port ${port}: ${log.join("")}`);
  }
  throw new Error("folio did not start");
}

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
    failed++;
    console.log(`not ok - setup\n  ${String((e && e.stack) || e).split("\n").join("\n  ")}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) {
      server.child.kill("SIGTERM");
      if (failed > 0 && server.log.length) console.log(`# server log:\n${server.log.join("")}`);
    }
    fs.rmSync(profile, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();

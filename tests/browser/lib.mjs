// Shared helpers of the browser specs: checks with a tally, the folio binary, a private copy
// of the example site (with examples/headless beside it, where the site's `folio.static`
// mount expects it), and starting folio on a free loopback port.

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, "../..");

export const tally = { passed: 0, failed: 0 };

export async function check(name, fn) {
  try {
    await fn();
    tally.passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    tally.failed++;
    console.log(`not ok - ${name}\n  ${String((e && e.stack) || e).split("\n").join("\n  ")}`);
  }
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

export function folioBinary() {
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

export function freePort() {
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
export function copySite() {
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
  fs.cpSync(path.join(repo, "examples/headless"), path.join(dir, "headless"), { recursive: true });
  return { dir, root };
}

export async function startFolio(root) {
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


#!/usr/bin/env bash
# Browser test: the example site's /app page (same-site SPA with session + CSRF) in Debian's
# Chromium, driven by playwright-core (tests/browser/app.spec.mjs). Installs what is missing
# (the `chromium` package, the npm dependency), builds the folio binary, runs the spec and
# ends with `browser: N passed, M failed`. The screenshot is kept at target/browser/app.png.
set -uo pipefail
cd "$(dirname "$0")/.."

summary_fail() {
  echo "browser: 0 passed, 1 failed ($1)"
  exit 1
}

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium"
  SUDO=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
  $SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium \
    || summary_fail "could not install chromium"
fi
command -v node >/dev/null || summary_fail "node is not installed"

echo "== npm dependencies"
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  if [ -f tests/browser/package-lock.json ]; then
    (cd tests/browser && npm ci --no-audit --no-fund) || summary_fail "npm ci failed"
  else
    (cd tests/browser && npm install --no-audit --no-fund) || summary_fail "npm install failed"
  fi
fi

if [ -z "${FOLIO_BIN:-}" ]; then
  echo "== building folio"
  cargo build -p folio --locked || summary_fail "cargo build failed"
  FOLIO_BIN="$PWD/target/debug/folio"
fi
export FOLIO_BIN

echo "== browser test"
mkdir -p target/browser
log=target/browser/app.log
node tests/browser/app.spec.mjs 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if ! tail -n 1 "$log" | grep -q '^browser: [0-9]* passed, [0-9]* failed$'; then
  echo "browser: 0 passed, 1 failed (the spec did not finish, exit $status)"
  exit 1
fi
exit "$status"

#!/usr/bin/env bash
# Installs what the browser end-to-end tests need, and nothing twice:
#   - Chromium from the system's packages (/usr/bin/chromium), since Playwright's
#     own browser download (`npx playwright install`) is not used by this project;
#   - playwright-core from package-lock.json into tests/e2e/node_modules.
# Safe to run again: each step is skipped when its result is already there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  if ! command -v apt-get >/dev/null; then
    echo "e2e setup: $chromium is missing and there is no apt-get to install it;" \
      "install Chromium and set CHROMIUM to its path" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "e2e setup: installing chromium"
  # Refresh the package lists only when they do not know chromium yet.
  if ! apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    $sudo apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
"$chromium" --version 2>/dev/null

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "e2e setup: node and npm are needed (Node.js 20 or newer)" >&2
  exit 1
fi

cd "$here"
installed="node_modules/playwright-core/package.json"
wanted="$(node -p "require('./package-lock.json').packages['node_modules/playwright-core'].version")"
have="$(node -p "try { require('./$installed').version } catch { '' }")"
if [ "$have" != "$wanted" ]; then
  echo "e2e setup: installing playwright-core $wanted"
  # Playwright would download browsers of its own on install; the system's Chromium is used.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi
echo "e2e setup: playwright-core $wanted, $("$chromium" --version 2>/dev/null | head -1)"

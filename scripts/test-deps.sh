#!/usr/bin/env bash
# Installs what the test suite needs that Go modules do not bring: the npm clients in
# test/node (real WebSocket, EventSource and browser drivers) and the Debian packages
# chromium and curl. Every step checks first, so `make test` runs it each time and it
# costs well under a second once everything is in place. Needs root (or sudo) only when
# a Debian package is missing, and Node.js >= 20 (eventsource and playwright-core need it).
set -euo pipefail
cd "$(dirname "$0")/.."
go mod download

log=$(mktemp)
trap 'rm -f "$log"' EXIT
quiet() { # quiet CMD...: run CMD with its output shown only if it fails
	if ! "$@" >"$log" 2>&1; then
		cat "$log" >&2
		echo "test-deps: failed: $*" >&2
		exit 1
	fi
}

# Debian packages, only those whose binary is missing.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
	sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || { echo "test-deps: need root to install ${missing[*]}" >&2; exit 1; }
		sudo=(sudo)
	fi
	echo "test-deps: installing ${missing[*]} (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	quiet "${sudo[@]}" apt-get update -qq
	quiet "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node.js clients, reinstalled only when node_modules is missing or the lock changed.
command -v node >/dev/null || { echo "test-deps: node (>= 20) not found on PATH" >&2; exit 1; }
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
	echo "test-deps: node $(node --version) is too old; test/node needs >= 20" >&2
	exit 1
fi
stamp=test/node/node_modules/.rtd-lock.sha256
want=$(sha256sum test/node/package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
	echo "test-deps: npm ci in test/node"
	(cd test/node && export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 && quiet npm ci --no-audit --no-fund --loglevel=error)
	echo "$want" >"$stamp"
fi

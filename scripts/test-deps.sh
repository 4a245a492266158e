#!/usr/bin/env bash
# Installs what the test suite needs that Go modules do not bring: the npm clients in
# test/node (real WebSocket, EventSource and browser drivers) and the Debian packages
# chromium, curl, and the reverse proxies nginx, haproxy and caddy (cmd/rtd's proxy tests
# start their own instances of them on loopback; the packages' own services are never
# started). Every step checks first, so `make test` runs it each time and it costs well
# under a second once everything is in place. Needs root (or sudo) only when a Debian
# package is missing, and Node.js >= 20 (eventsource and playwright-core need it).
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
services=() # packages whose postinst would start and enable a system service
[ -x /usr/sbin/nginx ] || services+=(nginx)
[ -x /usr/sbin/haproxy ] || services+=(haproxy)
[ -x /usr/bin/caddy ] || services+=(caddy)
missing+=("${services[@]}")
if [ ${#missing[@]} -gt 0 ]; then
	sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || { echo "test-deps: need root to install ${missing[*]}" >&2; exit 1; }
		sudo=(sudo)
	fi
	echo "test-deps: installing ${missing[*]} (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	quiet "${sudo[@]}" apt-get update -qq
	# The proxies' postinst scripts start their services (nginx and caddy on port 80),
	# which fails the install where port 80 is taken or there is no init system (a
	# container). A policy-rc.d that answers 101 ("action forbidden") makes invoke-rc.d
	# and deb-systemd-invoke skip the start; one already there (Docker images ship one)
	# is left as it is.
	policy=/usr/sbin/policy-rc.d
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# test-deps.sh: no service starts during its apt-get install\nexit 101\n' >"$log"
		"${sudo[@]}" install -m 755 "$log" "$policy"
		trap '"${sudo[@]}" rm -f "$policy"; rm -f "$log"' EXIT
	fi
	quiet "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
	# Under systemd the units were still enabled: keep them from starting at boot.
	if [ ${#services[@]} -gt 0 ] && [ -d /run/systemd/system ]; then
		"${sudo[@]}" systemctl disable --quiet "${services[@]}" >/dev/null 2>&1 || true
	fi
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

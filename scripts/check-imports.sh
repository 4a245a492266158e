#!/usr/bin/env bash
# Enforces the import rules of ARCHITECTURE.md with `go list -deps`.
set -euo pipefail
cd "$(dirname "$0")/.."
mod=$(go list -m)
fail=0
deny() { # deny PKGPATTERN REGEX WHY
	local pkgs
	pkgs=$(go list "$1" 2>/dev/null) || return 0
	for p in $pkgs; do
		bad=$(go list -deps "$p" | grep -vxF "$p" | grep -E "$2" || true)
		if [ -n "$bad" ]; then
			echo "import rule: $p must not import ($3):"; echo "$bad" | sed 's/^/    /'
			fail=1
		fi
	done
}
deny "./proto/..." "^($mod/|github.com/panjf2000/gnet)" "rtd packages, gnet"
# proto/* do no I/O: they must not import net themselves (gobwas/ws, which
# proto/wsframe builds on, links net for its client dialer; that is fine).
for p in $(go list ./proto/...); do
	if go list -f '{{join .Imports "\n"}}' "$p" | grep -qx 'net'; then
		echo "import rule: $p must not import net"; fail=1
	fi
done
deny "./hub/..." "^($mod/(proto|server|cmd)|net$|github.com/panjf2000/gnet)" "proto, server, net, gnet"
deny "./bench/..." "^$mod/(server|hub|cmd)(/|$)" "server, hub, cmd"
# only server may import gnet
for p in $(go list ./... | grep -v "^$mod/server\$"); do
	if go list -f '{{join .Imports "\n"}}' "$p" | grep -q '^github.com/panjf2000/gnet'; then
		echo "import rule: only $mod/server may import gnet, $p does"; fail=1
	fi
done
# nothing imports cmd/rtd
for p in $(go list ./...); do
	if go list -f '{{join .Imports "\n"}}' "$p" | grep -q "^$mod/cmd/"; then
		echo "import rule: $p imports cmd/"; fail=1
	fi
done
exit $fail

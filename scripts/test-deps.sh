#!/usr/bin/env bash
# Installs what the test suite needs that Go modules do not bring: nothing yet beyond
# the Go toolchain. Later steps add npm clients and Debian packages; every step is
# idempotent so `make test` can run it each time.
set -euo pipefail
cd "$(dirname "$0")/.."
go mod download

# rtd — build, run, test, lint, fuzz, bench.
GO        ?= go
BIN       ?= bin/rtd
PKGS      := ./...
FUZZTIME  ?= 30s
STATICCHECK_VERSION := v0.8.0
GOBIN     := $(shell $(GO) env GOPATH)/bin
# rtd version and /metrics rtd_build_info: the nearest tag (or the commit) and the revision.
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X main.version=$(VERSION) -X main.revision=$(REVISION)

.PHONY: all build run test test-deps lint fuzz bench bench-load bench-compare clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/rtd

## run: start rtd serve on embedded defaults (:8080)
run: build
	./$(BIN) serve

## test-deps: install what the tests need (npm clients, Debian packages); idempotent
test-deps:
	@scripts/test-deps.sh

## test: every test, with the race detector
test: test-deps
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 12m $(PKGS)

## lint: gofmt, go vet, staticcheck, import rules
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) vet $(PKGS)
	@test -x $(GOBIN)/staticcheck || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GOBIN)/staticcheck $(PKGS)
	@scripts/check-imports.sh

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

## bench: micro benchmarks with allocation counts
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## bench-load: the default load suite against a fresh rtd serve (JSON + HTML in bench-results/)
bench-load: build
	@bench/scripts/load.sh

## bench-compare: one scenario against rtd and each peer in bench/peers, then the ratios
bench-compare: build
	@bench/scripts/compare.sh

clean:
	rm -rf bin

# rtd — build, run, test, lint, fuzz, bench.
GO        ?= go
BIN       ?= bin/rtd
PKGS      := ./...
# the vendored gnet (third_party/gnet, its own module): its patches' tests
GNET      := github.com/panjf2000/gnet/v2/...
FUZZTIME  ?= 30s
STATICCHECK_VERSION := v0.8.0
GOBIN     := $(shell $(GO) env GOPATH)/bin
# rtd version and /metrics rtd_build_info: the nearest tag (or the commit) and the revision.
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X main.version=$(VERSION) -X main.revision=$(REVISION)

.PHONY: all build run test test-deps lint cross fuzz bench bench-load bench-compare release clean

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
	$(GO) test -race -count=1 $(GNET)
	$(GO) test -race -count=1 -tags gc_opt -run 'TestGCOpt|TestFDChurn' $(GNET)

## lint: gofmt, go vet (here and cross-compiled for macOS and FreeBSD), staticcheck, import rules
lint: cross
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) vet $(PKGS)
	@test -x $(GOBIN)/staticcheck || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GOBIN)/staticcheck $(PKGS)
	@scripts/check-imports.sh

## cross: build and vet every package for the other systems gnet runs on (kqueue)
cross:
	GOOS=darwin $(GO) build $(PKGS)
	GOOS=darwin $(GO) vet $(PKGS)
	GOOS=freebsd $(GO) build $(PKGS)
	GOOS=freebsd $(GO) vet $(PKGS)
	$(GO) vet $(GNET)
	$(GO) build -tags poll_opt $(GNET)
	GOOS=darwin $(GO) vet $(GNET)
	GOOS=freebsd $(GO) build -tags poll_opt $(GNET)

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

## release: static binaries for linux/amd64 and linux/arm64 in $(DIST), version stamped, with SHA256SUMS
## (darwin: the server builds, the bench client is Linux-only, so no darwin binary)
DIST      ?= dist
PLATFORMS := linux/amd64 linux/arm64
release:
	@rm -rf $(DIST) && mkdir -p $(DIST)
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; \
		echo "rtd $(VERSION) $$os/$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '-s -w $(LDFLAGS)' \
			-o $(DIST)/rtd-$$os-$$arch ./cmd/rtd || exit 1; \
	done
	@cd $(DIST) && sha256sum rtd-* > SHA256SUMS && echo $(VERSION) > VERSION && cat SHA256SUMS

clean:
	rm -rf bin dist

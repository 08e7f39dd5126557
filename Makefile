# postdesk — make targets. `make test` is what CI runs (.ci/run).
#
#   make build      bin/postdesk, version from git describe
#   make test       lint, race tests, a short fuzz of every fuzz target,
#                   promtool and systemd unit checks when the tools exist
#   make bench      the benchmark program (cmd/postdesk-bench)
#   make lint       gofmt and go vet
#   make fuzz-long  every fuzz target for FUZZTIME_LONG (10m) each
#   make crash-long the long crash/fault suite (2,000 mails, 20 kill -9s per run)
#   make vulncheck  govulncheck against a local database built from golang.org/x/vulndb
#   make deb        dist/postdesk_<version>_<arch>.deb
#   make check-unit systemd-analyze verify + security (exposure <= 2.0)
#   make clean

GO            ?= go
# Builds and tests use Go 1.27.3, fetched by the go command from the module
# proxy on first use: the machine's Go 1.26.8 has standard-library
# vulnerabilities (govulncheck) fixed only in later releases, and 1.27.3 is
# the release served here. go.mod keeps "go 1.26.0", so a plain `go` of
# 1.26 still builds and tests the module. GOTOOLCHAIN=local make … opts out.
export GOTOOLCHAIN ?= go1.27.3
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -X main.version=$(VERSION)
BIN           := bin/postdesk
DIST          := dist
TEST_TIMEOUT  ?= 20m
FUZZTIME      ?= 20s
FUZZTIME_LONG ?= 10m
# Minimizing each new interesting input may take up to a minute by default,
# all of a 20 s smoke run without a single new execution; a crasher is
# still minimized for this long.
FUZZMINIMIZE  ?= 2s
BENCHFLAGS    ?=

.PHONY: all build test go-test fuzz fuzz-long fuzz-run check-ops check-unit bench lint deb clean crash-long vulncheck

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/postdesk

test: lint go-test fuzz check-ops
	@if command -v systemd-analyze >/dev/null; then \
		$(MAKE) --no-print-directory check-unit; \
	else \
		echo "systemd-analyze not installed: skipping check-unit"; \
	fi

go-test:
	$(GO) test -race -shuffle=on -timeout $(TEST_TIMEOUT) ./...

lint:
	@files=$$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -print0 | xargs -0 gofmt -l); \
	if [ -n "$$files" ]; then echo "gofmt -l reports unformatted files:"; echo "$$files"; exit 1; fi
	$(GO) vet ./...

# Fuzz targets are discovered, not listed: packages whose tests declare a
# func Fuzz…, then `go test -list` for the exact names.
fuzz:
	@$(MAKE) --no-print-directory fuzz-run FUZZ_FOR=$(FUZZTIME)

fuzz-long:
	@$(MAKE) --no-print-directory fuzz-run FUZZ_FOR=$(FUZZTIME_LONG)

fuzz-run:
	@set -e; \
	pkgs=$$(grep -rlE --include='*_test.go' --exclude-dir=testdata --exclude-dir=.git '^func Fuzz[A-Za-z0-9_]*\(' . \
		| xargs -r -n1 dirname | sort -u); \
	if [ -z "$$pkgs" ]; then echo "no fuzz targets"; exit 0; fi; \
	for pkg in $$pkgs; do \
		list=$$($(GO) test -list '^Fuzz' "$$pkg"); \
		for target in $$(echo "$$list" | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$target for $(FUZZ_FOR)"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZ_FOR) -fuzzminimizetime $(FUZZMINIMIZE) "$$pkg"; \
		done; \
	done

# The Go tests in daemon/config run promtool too; this target is the
# standalone check.
check-ops:
	@if command -v promtool >/dev/null; then \
		promtool check rules configs/alerts.yml && promtool test rules configs/alerts_test.yml; \
	else \
		echo "promtool not installed: skipping alert rule checks"; \
	fi

check-unit: build
	systemd/check-unit.sh $(CURDIR)/$(BIN) systemd/postdesk.service

crash-long:
	POSTDESK_LONG=1 $(GO) test -count=1 -timeout 30m -v ./internal/faulttest/

vulncheck:
	.ci/govulncheck.sh

bench:
	$(GO) run ./cmd/postdesk-bench $(BENCHFLAGS)

deb: build
	packaging/build-deb.sh $(BIN) $(VERSION) $(DIST)

clean:
	rm -rf bin $(DIST)

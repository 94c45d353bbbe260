# netirq_exporter. `make test` installs what the tests need (Debian packages
# when root, Go modules through the module proxy) and runs every test.
GO        ?= go
BIN       := netirq_exporter
PKGS      := ./...
# RACE_PKGS read the snapshot concurrently (the Source, the readers it
# runs in goroutines, the Exporter, the live view's viewers and scrapes);
# FUZZ_PKGS hold the fuzz targets.
RACE_PKGS := ./collector ./internal/snapshot/... ./internal/kernel/... ./internal/live
FUZZ_PKGS := ./internal/cpuset ./internal/kernel/procfs ./internal/kernel/sysfs ./internal/kernel/nic ./internal/kernel/netbsd ./internal/irqclass ./collector
# Debian packages the tests use (deps checks each by a command it provides):
# prometheus (promtool), prometheus-alertmanager, iproute2 (ip), util-linux
# (nsenter), systemd (systemd-analyze), strace, ethtool (the scenario test turns on GRO in its lab), gcc (the race detector needs cgo),
# chromium (the live page's browser test), victoria-metrics (the fleet on a long-term store).

.PHONY: all build run test deps lint fmt vet fuzz-short

all: lint test build

VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
VERSION_PKG := github.com/prometheus/common/version
LDFLAGS   := -s -w -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Revision=$(REVISION) \
	-X $(VERSION_PKG).Branch=main -X $(VERSION_PKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/netirq_exporter

run:
	$(GO) run ./cmd/netirq_exporter

# deps installs what is missing, once; without root it says what would help
# and the tests that need it skip (outside CI) with the same message.
deps:
	@missing=""; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	command -v alertmanager >/dev/null 2>&1 || command -v prometheus-alertmanager >/dev/null 2>&1 || missing="$$missing prometheus-alertmanager"; \
	command -v ip >/dev/null 2>&1 || missing="$$missing iproute2"; \
	command -v nsenter >/dev/null 2>&1 || missing="$$missing util-linux"; \
	command -v systemd-analyze >/dev/null 2>&1 || missing="$$missing systemd"; \
	command -v strace >/dev/null 2>&1 || missing="$$missing strace"; \
	command -v ethtool >/dev/null 2>&1 || missing="$$missing ethtool"; \
	command -v gcc >/dev/null 2>&1 || missing="$$missing gcc"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v victoria-metrics >/dev/null 2>&1 || missing="$$missing victoria-metrics"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing (run make deps as root); tests that need them will skip"; fi; \
	fi
	$(GO) mod download

# test runs its four parts in turn; make -k test (as .ci/run does) runs
# every part even when one fails.
.PHONY: test-go test-race test-dashboards test-deploy
test: deps vet test-go test-race test-dashboards test-deploy

test-go: deps
	$(GO) test -count=1 -timeout 30m $(PKGS)

# The snapshot is read by concurrent goroutines: check them for races.
test-race: deps
	$(GO) test -race -count=1 -timeout 30m $(RACE_PKGS)

test-dashboards: deps
	cd dashboards && $(GO) test -count=1 ./...

test-deploy: deps
	cd deploy && $(GO) test -count=1 ./...

vet:
	$(GO) vet $(PKGS)

# fuzz-short runs every fuzz target of FUZZ_PKGS for 10,000 inputs each (CI);
# a crasher is written to <package>/testdata/fuzz/<FuzzName>/ and fails the run.
# A count, not a time: a short -fuzztime can end with a spurious "context
# deadline exceeded" failure while the seed corpus is still being replayed.
# Every target runs; the failed ones are named at the end.
fuzz-short:
	@failed=""; for p in $(FUZZ_PKGS); do \
	  for t in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do \
	    echo "fuzz $$p $$t"; \
	    $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime 10000x $$p || failed="$$failed $$p:$$t"; \
	  done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz targets failed:$$failed"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

.PHONY: fmt-check cross
lint: vet fmt-check cross

# cross builds the exporter for every other system it supports and vets
# all packages there: no NetBSD machine runs in CI, so this is what keeps
# the NetBSD build (build constraints, the sysctl readers) from breaking.
# The binaries are left as netirq_exporter-<os>-<arch>.
CROSS := netbsd/amd64 netbsd/arm64
cross:
	@for p in $(CROSS); do os=$${p%/*}; arch=$${p#*/}; \
	  echo "cross $$os/$$arch"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)-$$os-$$arch ./cmd/netirq_exporter || exit 1; \
	  GOOS=$$os GOARCH=$$arch $(GO) vet $(PKGS) || exit 1; \
	done

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# install: the binary (it does not build it, so that `make build && sudo
# make install` works where root has no go in its PATH, as under sudo's
# secure_path), the systemd unit (ExecStart and EnvironmentFile rewritten to
# BINDIR and SYSCONFDIR) and the flags file, which is kept if it exists. It
# stops when the binary is missing and warns when a Go source is newer. It
# never runs systemctl: do that yourself (see deploy/README.md).
# DESTDIR stages the tree for a package: make install DESTDIR=/tmp/pkg PREFIX=/usr
.PHONY: install promrule
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc

install:
	@if [ ! -f $(BIN) ]; then echo "$(BIN) is missing: run make build first (as yourself; make install needs no Go)" >&2; exit 1; fi
	@newer=$$(find cmd collector internal -name '*.go' ! -name '*_test.go' -newer $(BIN) 2>/dev/null | head -1); \
	if [ -n "$$newer" ]; then echo "warning: $$newer is newer than $(BIN): run make build again to install the current sources" >&2; fi
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/netirq_exporter
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed -e 's|^ExecStart=/usr/local/bin/netirq_exporter|ExecStart=$(BINDIR)/netirq_exporter|' \
	    -e 's|^EnvironmentFile=-/etc/default/netirq_exporter|EnvironmentFile=-$(SYSCONFDIR)/default/netirq_exporter|' \
	    deploy/systemd/netirq_exporter.service >$(DESTDIR)$(UNITDIR)/netirq_exporter.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/netirq_exporter.service
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/default/netirq_exporter ]; then \
	  echo "keeping $(DESTDIR)$(SYSCONFDIR)/default/netirq_exporter"; \
	else install -D -m 0644 deploy/systemd/netirq_exporter.default $(DESTDIR)$(SYSCONFDIR)/default/netirq_exporter; fi
	@echo "installed. To start: systemctl daemon-reload && systemctl enable --now netirq_exporter"

# promrule regenerates the Prometheus Operator PrometheusRule from the three
# rule files in alerts/ (the one source of truth); commit the result.
promrule:
	$(GO) run ./cmd/netirq_promrule -o deploy/kubernetes/prometheusrule.yaml \
	  alerts/netirq-thresholds.yml alerts/netirq-rules.yml alerts/netirq-alerts.yml

# bench-compare builds node_exporter (pinned version, from its Go module) and
# netirq_exporter, generates synthetic hosts of 8 to 1024 CPUs, scrapes both
# side by side, runs the Go benchmarks and pprof, and writes BENCHMARKS.md.
.PHONY: bench-compare
bench-compare:
	$(GO) run ./cmd/netirq_benchcompare -out BENCHMARKS.md

# bench-load reruns only BENCHMARKS.md's "Under load" section (peak RSS
# under 100 gzip scrapers against node_exporter, endless headers, the floor
# of a scrape; needs strace), ~3 min instead of the whole comparison.
.PHONY: bench-load
bench-load:
	$(GO) run ./cmd/netirq_benchcompare -only load -out BENCHMARKS.md

# generate rebuilds the eBPF objects of the opt-in bpf collector
# (internal/kernel/bpfprobes/probes_bpf{el,eb}.{o,go}) from c/probes.bpf.c
# with bpf2go and Debian's clang (apt-get install clang llvm libbpf-dev);
# commit the result: `go build` uses the committed objects and needs no clang.
.PHONY: generate
generate:
	@command -v clang >/dev/null 2>&1 || { echo "clang is missing: apt-get install -y clang llvm libbpf-dev" >&2; exit 1; }
	$(GO) generate ./internal/kernel/bpfprobes

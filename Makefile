# netirq_exporter. `make test` installs what the tests need (Debian packages
# when root, Go modules through the module proxy) and runs every test.
GO        ?= go
BIN       := netirq_exporter
PKGS      := ./...
# Debian packages the tests use: promtool/prometheus, alertmanager, ip, nsenter.
TEST_DEBS := prometheus prometheus-alertmanager iproute2 util-linux

.PHONY: all build run test deps lint fmt vet

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
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing (run make deps as root); tests that need them will skip"; fi; \
	fi
	$(GO) mod download

test: deps vet
	$(GO) test -count=1 -timeout 30m $(PKGS)
	cd dashboards && $(GO) test -count=1 ./...

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
REDOCLY ?= @redocly/cli@2.77.0
# FUZZTIME is how long `make fuzz` runs each fuzz target; TEST_FUZZTIME
# how long `make test` (CI) does.
FUZZTIME ?= 30s
TEST_FUZZTIME ?= 2s

.PHONY: test fuzz fmt vet check-libc lint-openapi build demo bench

## test: everything CI checks — formatting, vet, the libc pin, the OpenAPI
## lint (when npx is available), every test under the race detector, and
## every fuzz target briefly.
test: fmt vet check-libc lint-openapi
	$(GO) test -race -count=1 ./...
	@echo "store contract suite engines:"
	@$(GO) test -count=1 -run '^TestStore' -v ./internal/sqlstore 2>&1 \
		| grep -E -- '--- (PASS|FAIL|SKIP): TestStore[A-Za-z]*/(sqlite|postgres) |not tested' | sed 's/^ */  /'
	@echo "rate-limit store suite:"
	@$(GO) test -count=1 -run '^TestThrottlerSemantics$$' -v ./internal/ratelimit 2>&1 \
		| grep -E -- '--- (PASS|FAIL|SKIP): TestThrottlerSemantics/|not tested' | sed 's/^ */  /'
	@FUZZTIME=$(TEST_FUZZTIME) GO=$(GO) ./scripts/fuzz.sh

## bench: the load benchmark (cmd/verigate-bench): every hot case beside a
## bare net/http server, in rounds; about 2 minutes on SQLite, and as long
## again on PostgreSQL when VERIGATE_TEST_POSTGRES_URL is set. BENCH_FLAGS
## passes flags: make bench BENCH_FLAGS="-duration 2s -rounds 1".
BENCH_FLAGS ?=
bench:
	$(GO) build -o tmp/verigate-bench ./cmd/verigate-bench
	GO=$(GO) ./tmp/verigate-bench $(BENCH_FLAGS)

## fuzz: every fuzz target, one after another, FUZZTIME (30s) each.
fuzz:
	@FUZZTIME=$(FUZZTIME) GO=$(GO) ./scripts/fuzz.sh

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

check-libc:
	@./scripts/check-libc.sh

lint-openapi:
	@if command -v npx >/dev/null 2>&1; then \
		tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
		$(GO) run ./cmd/verigate openapi > "$$tmp/openapi.json"; \
		npx --yes $(REDOCLY) lint --config redocly.yaml "$$tmp/openapi.json" 2>&1 | grep -vE '^npm warn' | tail -n 3; \
	else echo "lint-openapi: npx not found; skipping the OpenAPI lint"; fi

build:
	$(GO) build -trimpath -ldflags "-s -w -X github.com/verigate/verigate/internal/app.Version=$$(git describe --tags --always --dirty 2>/dev/null || echo dev)" -o verigate ./cmd/verigate

demo:
	$(GO) run ./cmd/verigate demo

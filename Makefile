# Baton's Makefile: every target installs what it needs on a fresh Debian
# machine (Go itself is assumed, as the README says).

GO        ?= go
BIN       := bin/baton
DATA      ?= .data
RUN_PORT  ?= 6379
APT_PKGS  := redis-tools redis-server

.PHONY: all build run test test-go compat fuzz bench-node bench-repl bench-failover bench-takeover bench-clients bench-proxy chaos dashboards-check deps vet fmt-check clean images up down logs chaos-compose chaos-smoke

all: build

## deps: install the Debian packages the tests and benchmarks use, when missing
deps:
	@missing=""; \
	command -v redis-cli >/dev/null 2>&1 || missing="$$missing redis-tools"; \
	command -v redis-benchmark >/dev/null 2>&1 || missing="$$missing redis-tools"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(APT_PKGS) >/dev/null; \
	fi
	@# Debian starts a redis-server service on install; tests start their own.
	@(command -v systemctl >/dev/null 2>&1 && systemctl stop redis-server >/dev/null 2>&1) || true

## build: the baton binary (static, as the container images will want it)
build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/baton

## run: start the local appliance (3 coordinators, 3 nodes, 1 proxy); the
## proxy listens on 127.0.0.1:6379 (or the next free port, printed)
run: build
	@mkdir -p $(DATA)/appliance
	$(BIN) up --addr 127.0.0.1:$(RUN_PORT) --dir $(DATA)/appliance

## test: everything CI runs: vet, unit and integration tests with -race
## (fuzz seed corpora included), and the redis-cli compatibility script
test: deps vet test-go compat

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

# The integration tests run bin/baton built from the sources, which Go's
# test cache cannot see: their results are never reused (-count=1).
test-go:
	$(GO) test -race -timeout 20m $$($(GO) list ./... | grep -v /integration)
	$(GO) test -race -timeout 20m -count=1 ./integration/...

## compat: drive redis-cli through every command family (pipelines, pub/sub
## and blocking pops included) against redis-server and baton, and compare
## the replies: first `baton node` directly, then `baton proxy` in front of one
compat: deps build
	scripts/compat.sh $(BIN) node proxy

## fuzz: run each fuzz target for a while (FUZZTIME=20s); `make test` runs
## only their checked-in seed corpora
FUZZTIME ?= 20s
FUZZPKGS := ./node ./node/journal ./internal/resp ./internal/resplimit
fuzz:
	@for pkg in $(FUZZPKGS); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$t"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## bench-node: redis-benchmark against baton node and redis-server side by side
bench-node: deps build
	scripts/bench-node.sh $(BIN)

## bench-repl: replication throughput, replica lag and full sync time of
## baton node and redis-server side by side (BENCH_N, FULLSYNC_MB)
bench-repl: build deps
	scripts/bench-repl.sh $(BIN)

## bench-failover: write-unavailability window over K kill -9 failovers of the
## primary (Baton vs Redis Sentinel); env K (default 20), CLIENTS (default 20)
bench-failover: build deps
	scripts/bench-failover.sh $(BIN)

## bench-takeover: write pause of K coordinated takeovers (BATON.TAKEOVER)
## under a write load through the proxy, without and with hung clients on
## the primary (Redis 7 FAILOVER as the anchor); env K (default 20), CLIENTS
## (default 50), HUNG (default 20), TAKEOVER_SYSTEMS
bench-takeover: build deps
	scripts/bench-takeover.sh $(BIN)

## bench-clients: writer throughput and p99 with 0/10/50 hung clients (a
## pipeline of 64 GETs of 1 MB, never read) through the proxy and straight
## to the node, next to redis-server with the same hung clients and output
## limit; then the node's CPU for a pipeline of 50 vs 200 GETs of 256 KB
## (issue 17); env WRITERS (default 20), HUNG (default 0,10,50), WINDOW
## (default 5s), LIMIT (default "normal 32mb 8mb 10")
bench-clients: build deps
	$(GO) run ./scripts/benchclients -baton $(BIN) -writers $${WRITERS:-20} -hung $${HUNG:-0,10,50} \
		-window $${WINDOW:-5s} -limit "$${LIMIT:-normal 32mb 8mb 10}"

## bench-proxy: what baton proxy costs over a direct connection to one node,
## with twemproxy as the peer (installed when missing); env N (default
## 500000), CLIENTS (default 50)
bench-proxy: build deps
	scripts/bench-proxy.sh $(BIN)

## dashboards-check: Debian's prometheus (installed when missing) scrapes a
## local appliance under load and a takeover; every dashboards/*.json query
## is evaluated through its HTTP API and must return series (table printed)
dashboards-check: deps build
	@command -v prometheus >/dev/null 2>&1 || { \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq prometheus >/dev/null; \
		(command -v systemctl >/dev/null 2>&1 && $$SUDO systemctl stop prometheus >/dev/null 2>&1) || true; }
	scripts/dashboards-check.sh $(BIN)

## chaos: the full chaos suite on the local target: every scenario with
## CHAOS_SEEDS (default 5) consecutive seeds from CHAOS_SEED (default 1),
## CHAOS_DURATION (default 20s) of faults per run, --sync-replicas 1
## (CHAOS_SYNC_REPLICAS); report in $(DATA)/chaos/report.html, exit code 1
## if any checker failed. 85 runs: about 35 minutes on 2 cores.
CHAOS_SEEDS         ?= 5
CHAOS_SEED          ?= 1
CHAOS_DURATION      ?= 20s
CHAOS_SYNC_REPLICAS ?= 1
chaos: build
	$(BIN) chaos run --scenario all --seed $(CHAOS_SEED) --seeds $(CHAOS_SEEDS) --duration $(CHAOS_DURATION) \
		--sync-replicas $(CHAOS_SYNC_REPLICAS) --out $(DATA)/chaos

## images: the compose appliance's images, FROM scratch (nothing pulled):
## baton:local (the static baton binary) and baton-toxiproxy:local
## (toxiproxy's server from go.mod's tool directive, with the appliance's
## links in deploy/compose/toxiproxy.json)
IMAGES := bin/images
images:
	@mkdir -p $(IMAGES)/baton $(IMAGES)/toxiproxy
	CGO_ENABLED=0 $(GO) build -trimpath -o $(IMAGES)/baton/baton ./cmd/baton
	CGO_ENABLED=0 $(GO) build -trimpath -o $(IMAGES)/toxiproxy/toxiproxy-server github.com/Shopify/toxiproxy/v2/cmd/server
	cp $(IMAGES)/baton/baton $(IMAGES)/toxiproxy/baton
	cp deploy/compose/toxiproxy.json $(IMAGES)/toxiproxy/toxiproxy.json
	docker build -q -t baton:local -f deploy/docker/baton.Dockerfile $(IMAGES)/baton
	docker build -q -t baton-toxiproxy:local -f deploy/docker/toxiproxy.Dockerfile $(IMAGES)/toxiproxy

## up / down / logs: the compose appliance (docker-compose.yml) with
## `docker compose` or `docker-compose`; up waits until every container is
## healthy and prints the proxies' ports (127.0.0.1:6380 and :6381)
up: images
	scripts/compose.sh up
down:
	scripts/compose.sh down
logs:
	scripts/compose.sh logs

## chaos-compose: the chaos suite against a fresh compose appliance (its own
## project, torn down after): every scenario × CHAOS_SEEDS seeds,
## containers killed, paused and restarted, toxics through the toxiproxy
## container; report in $(DATA)/chaos-compose, exit code 1 if a check failed
chaos-compose: images
	BATON_SYNC_REPLICAS=$(CHAOS_SYNC_REPLICAS) scripts/compose.sh chaos $(DATA)/chaos-compose --scenario all --seed $(CHAOS_SEED) --seeds $(CHAOS_SEEDS) \
		--duration $(CHAOS_DURATION) --sync-replicas $(CHAOS_SYNC_REPLICAS)

## chaos-smoke: the short compose run CI makes when a Docker engine answers:
## a takeover with hung clients, then a kill -9 of the primary
chaos-smoke: images
	BATON_SYNC_REPLICAS=1 scripts/compose.sh chaos $(DATA)/chaos-smoke --scenario hung-clients,kill9-primary --seed 1 --seeds 1 \
		--duration 10s --sync-replicas 1

clean:
	rm -rf bin $(DATA) out

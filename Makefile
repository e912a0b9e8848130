# REMLA tagger. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin
RUN_DIR := $(CURDIR)/.run
MODEL ?= models/latest.model
ADDR ?= localhost:8080
COLOR ?= blue
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/remla/tagger/model.CodeVersion=$(VERSION)
CLUSTER_DIR := $(RUN_DIR)/cluster
# The model the tests and cluster benchmarks bake into their images.
TEST_MODEL = $(shell test/test-model.sh | tail -n 1)/latest.model
export REMLA_TEST_KUBECONFIG ?= $(CLUSTER_DIR)/kubeconfig

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z0-9_-]+:.*## /{printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build remla-app, remla-train and remlactl into bin/
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

.PHONY: run
run: build ## train a model if there is none, then serve on http://localhost:8080
	@[ -f $(MODEL) ] || $(MAKE) --no-print-directory train
	@mkdir -p $(RUN_DIR)
	$(BIN)/remla-app -model $(MODEL) -addr $(ADDR) -color $(COLOR) -feedback-db $(RUN_DIR)/feedback.db

.PHONY: train
train: ## train the default model on data/ into models/ (models/latest.model) with its report
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/remla-train ./cmd/remla-train
	$(BIN)/remla-train train --data data --out models

.PHONY: test
test: ## run every test: unit, browser, promtool, cluster and alert-loop end to end
	bash test/run-all.sh

.PHONY: test-unit
test-unit: ## the Go tests that need no cluster (skips the rest)
	$(GO) test ./...

.PHONY: test-e2e
test-e2e: ## bring the test cluster up, run the end-to-end tests, tear it down
	bash test/run-all.sh e2e

.PHONY: cluster-build
cluster-build: ## build (once) the test cluster: control plane, kubelet, kube-proxy, sandbox image
	test/deps.sh
	test/cluster/build.sh

.PHONY: cluster-up
cluster-up: cluster-build ## start the test cluster with the machine's real node; kubeconfig in .run/cluster/kubeconfig
	test/cluster/cluster.sh up $(CLUSTER_DIR)

.PHONY: cluster-down
cluster-down: ## stop the test cluster started by cluster-up; check its node left nothing on the machine
	test/cluster/cluster.sh down $(CLUSTER_DIR)
	test/cluster/cluster.sh check $(CLUSTER_DIR)

.PHONY: cluster-status
cluster-status: ## say whether the test cluster is up and healthy
	test/cluster/cluster.sh status $(CLUSTER_DIR)

.PHONY: bench-cluster
bench-cluster: cluster-build ## the test cluster on real pods: up, Available, switch, memory, alert loop
	REMLA_TEST_MODEL=$(TEST_MODEL) test/cluster/bench.sh

.PHONY: bench
bench: ## Go benchmarks (text preparation, vectorising, prediction, HTTP, webhook)
	$(GO) test -run '^$$' -bench . -benchmem ./...

.PHONY: bench-train
bench-train: ## training time and peak memory, Go beside scikit-learn
	REMLA_DEPS_PARITY=1 test/deps.sh
	bash training/bench/bench-train.sh

.PHONY: bench-serve
bench-serve: ## wrk on GET /healthz beside POST /api/v1/predict, one pinned server, their ratio; then SQLite beside PostgreSQL (bench-store.sh)
	REMLA_DEPS_BENCH=1 test/deps.sh
	bash app/bench/bench-serve.sh
	bash app/bench/bench-store.sh

.PHONY: bench-deploy
bench-deploy: cluster-up ## on real pods: deploy-to-switch, switch to first answer, failures under load
	REMLA_TEST_MODEL=$(TEST_MODEL) REMLA_TEST_KUBECONFIG=$(CLUSTER_DIR)/kubeconfig $(GO) test -run '^$$' -bench . -benchtime 20x ./deployer/

.PHONY: parity
parity: ## scikit-learn beside the Go trainer on the notebook's configurations
	REMLA_DEPS_PARITY=1 test/deps.sh
	bash training/parity/parity.sh

.PHONY: lint
lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

.PHONY: image
image: ## build the container image (needs a Docker engine)
	@docker info >/dev/null 2>&1 || { echo "make image needs a running Docker engine (docker info fails here); the Dockerfile is a plain docker build" >&2; exit 1; }
	docker build --build-arg VERSION=$(VERSION) -t remla-app:$(VERSION) -t ghcr.io/remla/tagger:$(VERSION) .

.PHONY: clean
clean: ## remove built binaries and run state (keeps models/)
	rm -rf $(BIN) $(RUN_DIR)

# support-plans: the two commands are `make demo` (the story, locally) and
# `make test` (every test). `make local-up` / `make local-down` run the local
# stack on its own.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help bench demo test unit stack-tests local-up local-down local-seed venv fmt lint ci

help:
	@echo "make demo        the story, locally: start the stack, load samples, show what is stale, stop"
	@echo "make test        every test (installs what it needs into .venv)"
	@echo "make local-up    start the local stack in the background; writes .local/env"
	@echo "make local-down  stop everything local-up started"
	@echo "make local-seed  local-up with the sample plans and workloads loaded"
	@echo "make bench       release builds, then every figure of SPEC §10 against its bar (BENCH_SMOKE=1: quick)"
	@echo "make lint        cargo fmt --check and clippy -D warnings"

demo: venv
	@infra/local/demo.sh

venv:
	@infra/local/venv.sh

# The template is linted; the Rust tests and schemathesis run against a private
# local stack (each store test makes its own table); then the local-up /
# local-down contract and the README's curl story are checked.
test: venv
	@infra/ci/check-template.sh
	@infra/local/with-stack.sh infra/local/test-all.sh
	@infra/incident-manager-emulator/tests/boto3_check.sh target/debug/incident-manager-emulator
	@infra/incident-manager-emulator/tests/awscli_check.sh target/debug/incident-manager-emulator
	@infra/local/test-local-stack.sh

check-template: venv
	@infra/ci/check-template.sh

local-up: venv
	@infra/local/up.sh

local-seed: venv
	@SEED=1 infra/local/up.sh

# The numbers are for people (infra/bench/README.md); CI runs BENCH_SMOKE=1.
bench: venv
	@infra/bench/run.sh

local-down:
	@infra/local/down.sh

fmt:
	cargo fmt --all

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

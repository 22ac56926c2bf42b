# The two README commands: `make dev` (a local Temporal cluster on SQLite) and `make test` (the whole suite).
SHELL := bash
.DEFAULT_GOAL := help
UV ?= uv
export UV_PYTHON ?= 3.11

.PHONY: help setup tools dev test lint unit e2e bench bench-dev env-example image clean

help:
	@echo "make dev    - build what is needed, then run a local Temporal cluster (SQLite) and its Web UI through the launcher"
	@echo "              FOLLOW=1 shows the server log live; DEV_ARGS='--port 7300 --headless' picks ports or drops the UI"
	@echo "make test   - lint, type-check and run every test (starts its own PostgreSQL and temporal-servers)"
	@echo "make bench  - launcher and credential-command benchmarks; make bench-dev - make dev beside temporal server start-dev"
	@echo "make image  - build the server, runtime and UI images (local Debian base; no registry needed)"

setup:
	@command -v $(UV) >/dev/null || python3 -m pip install --quiet "uv==0.13.9"
	$(UV) sync --locked

tools:
	bash scripts/build-temporal-tools.sh

# The venv's python directly: `uv run` would stay resident beside the cluster for nothing.
dev: setup tools
	.venv/bin/python scripts/dev_cluster.py $(if $(FOLLOW),--follow) $(DEV_ARGS)

lint: setup
	$(UV) run ruff check src tests bench scripts
	$(UV) run ruff format --check src tests bench scripts
	$(UV) run mypy

test: setup tools lint
	$(UV) run pytest

bench: setup tools
	$(UV) run python bench/run.py --write bench/RESULTS.md

image: setup tools
	bash scripts/start-docker.sh
	base=$$(bash scripts/build-base-image.sh) && BASE_IMAGE=$$base bash scripts/build-images.sh \
	  --server-bin .tools/bin --schema .tools/server-module/schema \
	  --ui-server .tools/bin/ui-server --ui-config .tools/ui-server-module/config

bench-dev: setup tools
	$(UV) run python bench/dev_server.py --write bench/RESULTS.md

env-example: setup
	$(UV) run temporal-dsql-runtime variables --format env > .env.example

clean:
	rm -rf .tools .venv .pytest_cache .mypy_cache .ruff_cache

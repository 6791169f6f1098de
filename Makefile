# Nastavnik: the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PACKAGES := -p nastavnik.common -p nastavnik.registry -p nastavnik.matching \
            -p nastavnik.monitoring -p nastavnik.notifications -p nastavnik.devstack
B ?=
# Trust the platform's certificate store (a corporate or registry proxy CA lives there).
export UV_SYSTEM_CERTS := 1

.PHONY: run test lint typecheck unit bench sync clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

.venv/.synced: $(UV) pyproject.toml uv.lock */*/pyproject.toml deploy/local/pyproject.toml
	$(UV) sync --frozen
	touch $@

sync: .venv/.synced

# make run: real PostgreSQL and NATS JetStream as child processes (data under var/), the four
# services on 8001-8004 (logs in var/logs/), a demo region loaded once; prints the URLs, the demo
# tokens and curl examples. Ctrl-C stops the services, then NATS, then PostgreSQL.
# Settings: NASTAVNIK_DEVSTACK_VAR (var), NASTAVNIK_DEVSTACK_PG_PORT (15432),
# NASTAVNIK_DEVSTACK_NATS_PORT (14222), NASTAVNIK_DEVSTACK_BASE_PORT (8001),
# NASTAVNIK_DEVSTACK_DEMO=0 (no demo); NASTAVNIK_POSTGRES_URL / NASTAVNIK_NATS_URL use your servers.
run: sync
	$(UV) run --frozen python -m nastavnik.devstack

lint: sync
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

typecheck: sync
	$(UV) run --frozen mypy $(PACKAGES)

test: lint typecheck
	$(UV) run --frozen pytest

bench: sync
	@if [ -n "$(B)" ]; then $(UV) run --frozen python bench/$(B).py; \
	else for f in bench/*.py; do $(UV) run --frozen python $$f || exit 1; done; fi

clean:
	rm -rf .venv .tools var .mypy_cache .ruff_cache .pytest_cache

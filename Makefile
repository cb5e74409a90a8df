# Entry points for users and CI: `make demo`, `make test`, `make bench`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP_BASE := $(VENV)/.installed-base
STAMP_TEST := $(VENV)/.installed-test
STAMP_ASSETS := $(VENV)/.installed-solara-assets
INSTALL_INPUTS := pyproject.toml constraints.txt

.PHONY: demo test bench lint format venv install install-test clean

$(PY):
	@py=$$(scripts/find-python) || exit 1; \
	echo "creating $(VENV) with $$py"; \
	"$$py" -m venv $(VENV) && $(PIP) install -q --upgrade pip

$(STAMP_BASE): $(PY) $(INSTALL_INPUTS)
	$(PIP) install -q -c constraints.txt -e .
	@touch $@

# Solara's front-end files from the npm registry into the venv, so the teaching app and its
# browser tests work with no internet (scripts/solara_assets.py says which packages and where).
$(STAMP_ASSETS): $(STAMP_BASE) scripts/solara_assets.py
	$(PY) scripts/solara_assets.py
	@touch $@

$(STAMP_TEST): $(PY) $(INSTALL_INPUTS)
	$(PIP) install -q -c constraints.txt -e '.[test,ray,slurm]'
	@touch $@ $(STAMP_BASE)

venv: $(PY)
install: $(STAMP_BASE) $(STAMP_ASSETS)
install-test: $(STAMP_TEST) $(STAMP_ASSETS)

demo: $(STAMP_BASE) $(STAMP_ASSETS)
	$(PY) -m experiments.demo

test: $(STAMP_TEST) $(STAMP_ASSETS)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

bench: $(STAMP_TEST)
	@mkdir -p .benchmarks
	@uptime
	MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 \
	$(PY) -m pytest tests/test_benchmark.py tests/test_sweep_benchmark.py --benchmark-enable \
	  --benchmark-only --benchmark-columns=min,median,max,rounds --benchmark-json=.benchmarks/latest.json
	$(PY) scripts/bench_summary.py .benchmarks/latest.json
	@echo "to put these figures into the docs: $(PY) scripts/bench_summary.py .benchmarks/latest.json --write README.md docs/SPEED.md"

format: $(STAMP_TEST)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache .benchmarks

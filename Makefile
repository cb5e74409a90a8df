# Entry points for users and CI: `make demo`, `make test`, `make bench`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP_BASE := $(VENV)/.installed-base
STAMP_TEST := $(VENV)/.installed-test
INSTALL_INPUTS := pyproject.toml constraints.txt

.PHONY: demo test bench lint format venv install install-test clean

$(PY):
	@py=$$(scripts/find-python) || exit 1; \
	echo "creating $(VENV) with $$py"; \
	"$$py" -m venv $(VENV) && $(PIP) install -q --upgrade pip

$(STAMP_BASE): $(PY) $(INSTALL_INPUTS)
	$(PIP) install -q -c constraints.txt -e .
	@touch $@

$(STAMP_TEST): $(PY) $(INSTALL_INPUTS)
	$(PIP) install -q -c constraints.txt -e '.[test,ray,slurm]'
	@touch $@ $(STAMP_BASE)

venv: $(PY)
install: $(STAMP_BASE)
install-test: $(STAMP_TEST)

demo: $(STAMP_BASE)
	$(PY) -m experiments.demo

test: $(STAMP_TEST)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

bench: $(STAMP_TEST)
	MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 \
	$(PY) -m pytest tests/test_benchmark.py --benchmark-enable --benchmark-only --benchmark-columns=min,median,max,rounds

format: $(STAMP_TEST)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache .benchmarks

# darkportal: `make run` runs the main job, `make test` runs the checks.
# Both create .venv with Python >= 3.12 when it is missing.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test venv lint typecheck clean tables bench

venv: $(STAMP)

$(STAMP): pyproject.toml tools/find_python.sh
	@interp="$$(bash tools/find_python.sh)" || exit 1; \
	echo "darkportal: creating $(VENV) with $$interp"; \
	"$$interp" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,mpi]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/darkportal run runs/kappa_nonzero.yaml
	$(VENV)/bin/darkportal run runs/kappa_zero.yaml
	$(VENV)/bin/darkportal compare results/kappa_nonzero results/kappa_zero
	$(VENV)/bin/darkportal plot results/kappa_nonzero results/kappa_zero
	@echo "darkportal: results are in results/kappa_nonzero and results/kappa_zero"

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: $(STAMP) lint typecheck
	$(VENV)/bin/python -m pytest -q

tables: $(STAMP)
	$(PY) tools/generate_scattering_tables.py

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

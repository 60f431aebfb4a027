# darkportal: `make run` runs the main job, `make test` runs the checks.
# Both create .venv with Python >= 3.12 when it is missing.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test venv lint typecheck clean tables bench lock paper

venv: $(STAMP)

$(STAMP): pyproject.toml tools/find_python.sh
	@interp="$$(bash tools/find_python.sh)" || exit 1; \
	echo "darkportal: creating $(VENV) with $$interp"; \
	"$$interp" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,mpi]'
	@touch $(STAMP)

# The two kappa cases run side by side (one core each); a finished run is kept, an interrupted one resumes.
RUNS := kappa_nonzero kappa_zero
run: $(STAMP)
	@start=$$(date +%s); \
	for r in $(RUNS); do \
	  if [ -f results/$$r/COMPLETE ]; then echo "[$$r] finished earlier: results/$$r (delete it to run again)"; \
	  else ( $(VENV)/bin/darkportal run runs/$$r.yaml --resume 2>&1 | sed -u "s/^/[$$r] /" ; exit $${PIPESTATUS[0]} ) & fi; \
	done; \
	fail=0; for job in $$(jobs -p); do wait $$job || fail=1; done; \
	[ $$fail = 0 ] || { echo "darkportal: a run failed (see above); 'make run' again resumes it"; exit 1; }; \
	$(VENV)/bin/darkportal compare results/kappa_nonzero results/kappa_zero && \
	for r in $(RUNS); do $(VENV)/bin/darkportal report results/$$r --replot || exit 1; done && \
	$(VENV)/bin/darkportal report results/kappa_nonzero results/kappa_zero --out results/comparison --replot && \
	echo "darkportal: done in $$(( $$(date +%s) - start )) s; results in results/kappa_nonzero and results/kappa_zero (figures/ and report.html inside each), both runs overlaid in results/comparison"

# The paper's own method (README, "Reproducing the paper"): both cuts-mode scans one after the other, Figs. 2
# and 3 as allowed points (beside the gaussian-mode contours of 'make run' when its results exist), the claims.
PAPER := paper_scan_kappa_nonzero paper_scan_kappa_zero
paper: $(STAMP)
	@for r in $(PAPER); do \
	  [ -f results/$$r/COMPLETE ] && echo "[$$r] finished earlier: results/$$r (delete it to run again)" || \
	  $(VENV)/bin/darkportal run runs/$$r.yaml --resume || exit 1; \
	done; \
	extra=""; for r in $(RUNS); do [ -f results/$$r/COMPLETE ] && extra="$$extra results/$$r"; done; \
	$(VENV)/bin/darkportal plot $(addprefix results/,$(PAPER)) $$extra && \
	$(PY) tools/paper_claims.py $(addprefix results/,$(PAPER))

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: $(STAMP) lint typecheck
	$(VENV)/bin/python -m pytest -q
	@echo "the kernel tests again with the kernel as plain Python (DARKPORTAL_JIT=0, the fallback without numba):"
	DARKPORTAL_JIT=0 $(VENV)/bin/python -m pytest -q tests/physics/test_fast_paths.py tests/reliability/test_physics_properties.py

# Rebuild physics/data/miniboone_numu_flux.csv and scattering_tables.npz from the MiniBooNE flux release as
# shipped in the DarkNews sdist (only the sdist is downloaded; DarkNews itself is not installed).
tables: $(STAMP)
	@d=$$(mktemp -d) && $(PY) -m pip download --quiet --no-deps darknews==0.4.8 -d $$d && \
	$(PY) tools/generate_scattering_tables.py --darknews-sdist $$d/darknews-0.4.8.tar.gz; rc=$$?; rm -rf $$d; exit $$rc

# requirements-lock.txt: the exact versions of every package in .venv (what each result's provenance.json records
# under "environment"); rebuild an environment from it with the commands in its header.
lock: $(STAMP)
	$(PY) -m inference.output.environment --write requirements-lock.txt

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

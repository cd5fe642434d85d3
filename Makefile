# Ember: `make test` and `make demo` set themselves up on a machine with nothing but Python.
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.demo-installed

.PHONY: test demo bench lint setup clean

$(VPY):
	$(PY) -m venv $(VENV)
	-$(VPY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(VPY)
	$(VPY) -m pip install -q -e '.[test]'
	touch $(STAMP)

$(DEMO_STAMP): pyproject.toml | $(VPY)
	$(VPY) -m pip install -q -e '.[demo]'
	touch $(DEMO_STAMP)

setup: $(STAMP)

lint: $(STAMP)
	$(VPY) -m ruff check ember tests bench examples scripts

# Tests use small shapes; one BLAS thread per process avoids oversubscribing the cores when the
# DataLoader-worker and MPI tests start several processes (it changes no result).
test: $(STAMP) lint
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(VPY) -m pytest -q tests

demo: $(DEMO_STAMP)
	$(VPY) -m ember.demo

bench: $(STAMP)
	$(VPY) bench/run.py
	$(VPY) bench/ddp_scaling.py

clean:
	rm -rf $(VENV) build *.egg-info

# Two commands do all the set-up on a fresh machine:
#   make demo   FIR filters on the embedded photos: PSNR/SSIM table + outputs/demo/fir_comparison.png
#   make test   unit tests and every notebook in quick mode (SRLIB_QUICK=1)
# Both create .venv and install the pinned requirements on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_WORKERS ?= 2

.PHONY: demo test test-fast notebooks notebooks-clean benchmarks lab clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13) and "srlib needs Python 3.11 to 3.13 (the pinned NumPy, SciPy and Keras need 3.11; TensorFlow 2.21 has no wheels for 3.14): run make PYTHON=python3.11 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 > /dev/null
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(BIN)/python -m srlib demo

test: $(STAMP)
	SRLIB_QUICK=1 $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --durations=15 tests

test-fast: $(STAMP)  ## unit tests only, no notebooks
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not notebook" tests

notebooks: $(STAMP)  ## rebuild notebooks/NN_topic.ipynb from their drafts in notebooks/src/
	for draft in notebooks/src/[0-9]*.py; do $(BIN)/python tools/build_notebook.py $$draft notebooks/$$(basename $$draft .py).ipynb || exit 1; done

notebooks-clean: $(STAMP)  ## strip outputs before committing
	$(BIN)/python -m srlib.notebook_tools strip notebooks/*.ipynb

benchmarks: $(STAMP)  ## every benchmark; each prints ratios against a peer measured in the same run
	for script in resize pipeline sp_vdsr inference mixed_precision; do $(BIN)/python benchmarks/$$script.py || exit 1; done

lab: $(STAMP)
	$(BIN)/python -m pip install --quiet jupyterlab==4.6.6 && $(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) outputs .pytest_cache

# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
DEMO   ?= demo-results

.PHONY: demo test venv lint clean bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

## make demo: simulate a small plasma batch and run the whole pipeline on it (embedded runner)
demo: venv
	$(PY) -m dnadx.demo --outdir $(DEMO)

## make test: the whole test suite
test: venv
	$(PY) -m pytest -q -p no:cacheprovider tests

bench: venv
	$(PY) benchmarks/count_speed.py
	$(PY) benchmarks/cnv_accuracy.py --reps 3
	$(PY) benchmarks/segmentation.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache

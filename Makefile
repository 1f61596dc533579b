# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
DEMO   ?= demo-results

.PHONY: demo test venv lint clean bench manifest

# PYSAM=wheel (default): the PyPI wheel, quick to install (CI, `make test`), but its htslib inflates
# with zlib. PYSAM=source: build the pinned pysam against libdeflate (needs the Debian/Ubuntu packages
# libdeflate-dev zlib1g-dev libbz2-dev liblzma-dev libcurl4-openssl-dev and ~5 min); what `dnadx count`
# reads through htslib (CRAM, .csi-indexed BAMs) is then ~2x faster; BAMs with a .bai are read by dnadx's
# own BGZF reader with libdeflate in either install (docs/install.md). Works on an existing venv too.
PYSAM  ?= wheel
PYSAM_VERSION = $(shell sed -n 's/.*"pysam==\([^"]*\)".*/\1/p' pyproject.toml | head -1)
CYTHON_VERSION = $(shell sed -n 's/.*"Cython==\([^"]*\)".*/\1/p' pyproject.toml | head -1)

# pip install -e also compiles the optional counting loop dnadx/count/_fastcount.pyx (setup.py; Cython and
# pysam's headers come from build isolation; if the compile fails the install goes on without it)
$(VENV)/.installed: pyproject.toml setup.py dnadx/count/_fastcount.pyx
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# --no-cache-dir: a wheel cached from a build without libdeflate-dev must not be reused
$(VENV)/.pysam-source: $(VENV)/.installed
	MAKEFLAGS=-j2 $(PY) -m pip install --quiet --no-cache-dir --force-reinstall --no-deps \
		--no-binary pysam pysam==$(PYSAM_VERSION)
	$(PY) -c "from dnadx.count.bam import pysam_build as b; print(b()); assert 'libdeflate: yes' in b(), \
		'pysam built without libdeflate: apt-get install -y libdeflate-dev, then make venv PYSAM=source again'"
# recompile dnadx/count/_fastcount.pyx against the pysam now installed (no build isolation: this venv's pysam)
	$(PY) -m pip install --quiet "setuptools>=68" wheel Cython==$(CYTHON_VERSION)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --force-reinstall -e .
	$(PY) -c "from dnadx.count.bam import count_loop; print('count loop:', count_loop())"
	touch $@

venv: $(VENV)/.installed $(if $(filter source,$(PYSAM)),$(VENV)/.pysam-source)

## make demo: simulate a small plasma batch and run the whole pipeline on it (embedded runner)
demo: venv
	$(PY) -m dnadx.cli.demo --outdir $(DEMO)

## make test: the whole test suite, one worker per core (pytest-xdist; a test file's tests stay on one worker, so its
## module fixtures are built once): the same 478 tests in 6:51 instead of 12:49 on 2 cores (496 now: 5:17 on a faster machine).
## TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
test: venv
	$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile tests

## make manifest: rewrite reference/MANIFEST.tsv (and reference/README.md's checksum table) over every file
## the wheel ships from reference/; the one way to regenerate it (the build scripts call the same code)
manifest:
	$(PYTHON) reference/build/bundle_manifest.py

bench: venv
	$(PY) benchmarks/count_speed.py
	$(PY) benchmarks/cnv_accuracy.py --reps 3 --fragments 1000000,3000000,10000000
	$(PY) benchmarks/segmentation.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache

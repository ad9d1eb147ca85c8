# Two commands on a fresh machine: `make run` serves the hub, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HUB_HOME ?= .hub
STAMP := $(VENV)/.installed-$(shell cksum requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test install bench clean

# The lock names every package at its version, so pip installs it as is (--no-deps): no
# resolver run, which pip 24 aborts on lxml's extra spelt two ways (html_clean, html-clean);
# `pip check` then proves nothing the packages need is missing from the lock.
# `hub prepare` unpacks the models into the model cache now, not at the first `hub serve`
# (hub/prepare.py); a cache that cannot be written is reported, and the hub runs without it.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/python -m pip check
	-$(BIN)/hub prepare
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## Serve the hub at http://127.0.0.1:8000, ingesting the sample library first (unchanged files are skipped).
run: install
	bash scripts/install_ocr.sh
	$(BIN)/hub --home $(HUB_HOME) serve --seed library

## Run the test suite on the real stack (model, Qdrant local mode, Whoosh, FastAPI, headless Chromium).
test: install
	bash scripts/install_browser.sh
	bash scripts/install_ocr.sh
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/ingest_speed.py
	$(BIN)/python bench/latency.py
	$(BIN)/python bench/quality.py

clean:
	rm -rf $(VENV) $(HUB_HOME)

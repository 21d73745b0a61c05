# The two commands of the README:
#   make course   start JupyterLab on notebooks/00-start-here.ipynb with the embedded cluster up
#   make test     run every test: lint, types, unit, integration, notebooks, browser
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PORT ?= 8888

.PHONY: course test install cluster down clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP)

cluster: $(STAMP)
	$(BIN)/course-cluster install
	$(BIN)/course-cluster up

# `course-cluster env`: JupyterLab's terminals get the course's kubectl and kubeconfig.
course: cluster
	eval "$$($(BIN)/course-cluster env)" && $(BIN)/jupyter lab --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=$(CURDIR) \
		$(if $(filter 0,$(shell id -u)),--allow-root) \
		notebooks/00-start-here.ipynb

test: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash tests/run_all.sh

down: $(STAMP)
	$(BIN)/course-cluster down

clean: down
	rm -rf $(VENV)

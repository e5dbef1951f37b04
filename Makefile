# Orientation Bot — `make run` serves the bot, `make test` runs every test. Both set everything up.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
export RASA_TELEMETRY_ENABLED=false
export SQLALCHEMY_SILENCE_UBER_WARNING=1
export TF_CPP_MIN_LOG_LEVEL=2
export PYTHONPATH := $(CURDIR)
# Rasa reads endpoints.yml, which names the SQLite tracker store through this variable.
export TRACKER_DB ?= $(CURDIR)/var/tracker.db

MODEL := models/orientation.tar.gz
WIDGET_DEPS := widget/node_modules/.package-lock.json
KB_STAMP := var/.kb-built
TRANSCRIPTS := $(wildcard transcripts/*.jsonl transcripts/imports/*.csv)
# The build also cross-validates the answer policy and fits its risk model: the policy's modules are its inputs too.
KNOWLEDGE_SRC := $(wildcard knowledge/*.py knowledge/data/*) $(addprefix orientbot/,normalise.py kb.py db.py cues.py \
	followup.py policy.py risk.py retrieval.py safety.py detectors.py topics.py settings.py) $(wildcard bot/data/nlu/*.yml)
TRAINING_DATA := config.yml domain.yml $(shell find bot/data -name '*.yml' 2>/dev/null) $(wildcard var/generated/*.yml) \
	$(wildcard bot/components/*.py) orientbot/normalise.py
# What Rasa learns from: the hand-written data and the generated one, which a school's transcripts keep out of git
# (var/generated/, knowledge/corpus.py); asked only when a recipe needs it.
RASA_DATA = bot/data/nlu bot/data/rules bot/data/stories $(shell $(PY) -m knowledge generated-dir)

.PHONY: help run test test-fast kb train validate eval eval-nlu lint bench score clean scaleout

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: $(VENV)/.installed $(KB_STAMP) $(MODEL) ## set up, build the KB, train if needed, serve the bot (:5005, a Rasa worker per core when Redis answers), the chat window and the console (:5080)
	@scripts/run.sh

test: $(VENV)/.installed $(WIDGET_DEPS) ## install what is needed and run every test (unit, pipeline, end to end, browser)
	@$(MAKE) --no-print-directory lint
	@echo "[test] les fichiers générés sont-ils à jour ?"
	$(PY) -m knowledge check
	@$(MAKE) --no-print-directory $(KB_STAMP) $(MODEL)
	@scripts/install-browser.sh
	@scripts/install-nginx.sh
	$(PY) -m pytest

test-fast: $(VENV)/.installed $(KB_STAMP) ## the tests that need no trained model nor browser
	$(PY) -m pytest -m "not e2e and not browser"

kb: $(VENV)/.installed ## rebuild the knowledge base and the generated training data from transcripts/
	$(PY) -m knowledge build
	@touch $(KB_STAMP)

train: $(MODEL) ## train the Rasa model (only when its inputs changed)

eval: $(VENV)/.installed ## cross-validate the whole answer policy over the transcripts; the figure to tune on (README "Measuring a change")
	$(PY) -m knowledge eval

eval-nlu: $(VENV)/.installed ## the same with fold-trained Rasa NLU models too (5 trainings, ~15 min): writes docs/nlu-crossval.txt
	nice -n 10 $(PY) -m knowledge eval-nlu

lint: $(VENV)/.installed ## ruff over the whole tree, bandit over the code (bandit.yaml says what it skips and why)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/bandit -q -c bandit.yaml -r bot orientbot console knowledge scripts

validate: $(VENV)/.installed $(KB_STAMP) ## rasa data validate
	$(RASA) data validate --data $(RASA_DATA) --domain domain.yml --config config.yml

bench: $(VENV)/.installed $(KB_STAMP) $(MODEL) ## load (closed loop, Poisson open loop), CPU/memory, where the time goes, accuracy; ~5 min (BENCH_ARGS="--help")
	$(PY) scripts/bench.py $(BENCH_ARGS)

score: ## score a running bot on ../shared/eval/dev.jsonl
	python3 ../shared/eval/score.py ../shared/eval/dev.jsonl --url http://localhost:$${RASA_PORT:-5005}

clean: ## remove trained models, databases and logs (keeps the virtualenv)
	rm -rf models var .rasa results widget/node_modules

$(VENV)/.installed: requirements/lock.txt scripts/find-python310.sh
	@echo "[setup] recherche de Python 3.10…"
	@test -x $(PY) || { python310=$$(scripts/find-python310.sh) && "$$python310" -m venv $(VENV); }
	@echo "[setup] installation des dépendances épinglées (requirements/lock.txt, ~3 Go, quelques minutes)…"
	$(PY) -m pip install --disable-pip-version-check --progress-bar on --no-deps -r requirements/lock.txt
	$(PY) -m pip check
	@touch $@

$(WIDGET_DEPS): widget/package-lock.json
	@echo "[setup] outils de test de la fenêtre de discussion (axe-core, depuis le registre npm)…"
	npm ci --prefix widget --no-audit --no-fund
	@touch $@

$(KB_STAMP): $(VENV)/.installed $(TRANSCRIPTS) $(KNOWLEDGE_SRC)
	$(PY) -m knowledge build
	@mkdir -p var && touch $@

# The generated training data is rewritten only when its content changes: a KB rebuild alone does not retrain.
$(MODEL): $(VENV)/.installed $(TRAINING_DATA) | $(KB_STAMP)
	@echo "[train] entraînement du modèle Rasa (quelques minutes sur 2 cœurs)…"
	$(RASA) train --data $(RASA_DATA) --domain domain.yml --config config.yml --out models --fixed-model-name orientation
	@touch $@

scaleout: $(VENV)/.installed $(KB_STAMP) $(MODEL) ## nginx (:8080) in front of 2 Rasa and 2 action servers, PostgreSQL + Redis (docs/deploy.md); Ctrl-C stops all
	@scripts/install-nginx.sh
	$(PY) scripts/scaleout.py $(SCALEOUT_ARGS)

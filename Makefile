# Lead-qualification assistant — `make run` and `make test` are all you need.
VENV        ?= .venv
RASA        := $(VENV)/bin/rasa
PYTEST      := $(VENV)/bin/pytest
RUFF        := $(VENV)/bin/ruff
MODEL       := models/lead-assistant.tar.gz
# What the model is made from: training data (data/), configuration, and the NLU
# code the pipeline runs (a change to any of them retrains; other code does not).
TRAIN_INPUT := config.yml domain.yml bot/nlu.py bot/clauses.py bot/crf.py bot/encoder.py bot/language.py common/languages.py $(shell find data -name '*.yml' 2>/dev/null)
RASA_PORT   ?= 5005
ACTIONS_PORT ?= 5055
LEADS_PORT  ?= 5077
export PYTHON
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: run scale test setup train shell lint format validate unit integration e2e conversations browser rep-page funnel slack teams crm security scale-test story-test bench clean

run: train ## Set up, train if needed, start the assistant
	@VENV=$(VENV) RASA_PORT=$(RASA_PORT) ACTIONS_PORT=$(ACTIONS_PORT) LEADS_PORT=$(LEADS_PORT) MODEL=$(MODEL) scripts/run.sh

scale: train ## N Rasa processes, M action servers on PostgreSQL, Redis and RabbitMQ (README: Scaling out)
	@VENV=$(VENV) RASA_PORT=$(RASA_PORT) ACTIONS_PORT=$(ACTIONS_PORT) MODEL=$(MODEL) scripts/scale.sh

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt scripts/setup.sh
	@scripts/setup.sh $(VENV)
	@touch $@

train: $(MODEL)

$(MODEL): $(TRAIN_INPUT) | $(VENV)/.installed
	@mkdir -p models && date +%s > models/.train-started
	$(RASA) train --force --fixed-model-name lead-assistant --out models
	@echo $$(( $$(date +%s) - $$(cat models/.train-started) )) > models/lead-assistant.train-seconds; rm -f models/.train-started
	@touch $@

shell: train ## Chat in the terminal (starts its own action server)
	@$(VENV)/bin/python -m actions.server --port $(ACTIONS_PORT) > /dev/null 2>&1 & pid=$$!; \
	 trap "kill $$pid" EXIT; sleep 5; $(RASA) shell --model $(MODEL) --endpoints endpoints.yml

lint: $(VENV)/.installed ## Style and common mistakes (ruff; configuration in pyproject.toml)
	$(RUFF) check .
	$(RUFF) format --check .

format: $(VENV)/.installed ## Fix what ruff can fix, and format the code
	$(RUFF) check --fix .
	$(RUFF) format .

validate: $(VENV)/.installed
	$(RASA) data validate --fail-on-warnings

unit: $(VENV)/.installed ## No model, no servers to start: seconds
	$(PYTEST) -q tests/unit

e2e: train
	$(PYTEST) -q tests/integration/e2e

browser: train ## The chat widget in headless Chromium (installed if missing; skipped without it)
	@scripts/ensure-chromium.sh
	$(PYTEST) -q tests/integration/browser

rep-page: train ## The rep page in headless Chromium (EN, FR, PL at 1280 and 375 px; screenshots in tests/artifacts/)
	@scripts/ensure-chromium.sh
	$(PYTEST) -q tests/integration/rep_page

funnel: train ## The manager's funnel in headless Chromium after known conversations (screenshots in tests/artifacts/)
	@scripts/ensure-chromium.sh
	$(PYTEST) -q tests/integration/funnel

slack: train ## The Slack channel and the reps' buttons, against a local Slack API
	$(PYTEST) -q tests/integration/slack

teams: train ## The Microsoft Teams channel, against a local Bot Framework (login and connector)
	$(PYTEST) -q tests/integration/teams

crm: train ## Leads in HubSpot, Salesforce and Pipedrive (local servers speaking their APIs), over REST and the widget
	$(PYTEST) -q tests/integration/crm

security: train ## Attacks on what make run exposes: tokens, limits, restarts, erasure
	$(PYTEST) -q tests/integration/security

conversations: train ## Whole prospect conversations in EN, FR and PL, judged field by field on the lead
	$(PYTEST) -q tests/integration/conversations

scale-test: train ## Two Rasa processes sharing conversations on the local PostgreSQL, Redis and RabbitMQ
	$(PYTEST) -q tests/integration/scale

story-test: train
	$(RASA) test core --model $(MODEL) --stories tests/integration/stories --fail-on-prediction-errors --out results/stories

integration: story-test e2e conversations browser rep-page funnel slack teams crm security scale-test ## Everything that needs the trained model

bench: train ## NLU per language, test stories, speed and memory against stock Rasa: bench/results/REPORT.md
	$(VENV)/bin/python -m bench.run

test: lint unit validate integration ## Everything CI runs

clean:
	rm -rf models results logs .pytest_cache

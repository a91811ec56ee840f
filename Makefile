# Angler: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS := dev airflow s3
UV_VERSION := $(shell sed -n 's/^required-version = "==\([^"]*\)".*/\1/p' pyproject.toml)
UV := .uv/$(UV_VERSION)/bin/uv
HOST_PATH := $(PATH)
# pytest-xdist workers for make test and make test-fast. The suite mostly waits on servers
# and subprocesses: on 2 cores, two workers take 22 min where one process takes 33.
TEST_WORKERS ?= 2
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help env lock java kubectl demo test test-fast lint format serve argo airflow clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# $(PYTHON) from outside the venv: the venv's own has no pip (uv makes it without).
$(UV) $(STAMP): PATH := $(HOST_PATH)

$(UV):
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --target .uv/$(UV_VERSION) \
		"uv==$(UV_VERSION)"

# --compile-bytecode: the .pyc files are written once, here. Where Python may not write them
# (PYTHONDONTWRITEBYTECODE, a read-only venv) every process would otherwise compile what it
# imports: TensorFlow alone took 21 s instead of 9 s to import, in every stage and test.
$(STAMP): pyproject.toml uv.lock | $(UV)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "error: Python 3.10+ is needed (found $$($(PYTHON) --version 2>&1))"; exit 1; }
	$(UV) sync --locked --compile-bytecode --python $(PYTHON) $(addprefix --extra ,$(EXTRAS))
	@touch $@

env: $(STAMP) ## Create .venv and install the locked versions (uv.lock) of Angler's dependencies

lock: | $(UV) ## Re-resolve uv.lock from pyproject.toml (LOCK_ARGS=--upgrade: newest releases)
	$(UV) lock $(LOCK_ARGS)

java: ## Check for Java 17+ (Spark needs it)
	@v=$$(java -version 2>&1 | awk -F'"' '/version/ {print $$2}' | cut -d. -f1); \
	if [ -z "$$v" ]; then \
		echo "error: Java not found. Spark needs Java 17 or newer: install OpenJDK 17+ (e.g. 'apt-get install openjdk-17-jre-headless') and set JAVA_HOME."; exit 1; \
	elif [ "$$v" -lt 17 ]; then \
		echo "error: Java $$v found, Spark 4 needs Java 17 or newer."; exit 1; \
	fi

kubectl: ## Check for kubectl (the manifest tests render the overlays with kubectl kustomize)
	@command -v kubectl >/dev/null || { \
		echo "error: kubectl not found. The manifest tests need it: install it" \
			"(https://kubernetes.io/docs/tasks/tools/, e.g. 'snap install kubectl --classic')."; exit 1; }

# The demo's served traffic: a month of its feeds replayed through the model (angler replay),
# written once, when traffic/ has no files, for the monitor and the PR report's shadow run.
DEMO_TRAFFIC_MONTH := 2024-12
demo: env java ## Run the whole pipeline on demo data and print a summary
	$(BIN)/dvc repro
	@ls traffic/*.parquet traffic/*.csv >/dev/null 2>&1 || { \
		$(BIN)/angler replay --month $(DEMO_TRAFFIC_MONTH) \
			--out traffic/demo-$(DEMO_TRAFFIC_MONTH).parquet && $(BIN)/dvc repro monitor; }
	@echo
	@$(BIN)/angler summary --reports reports

test: env java kubectl ## Lint, then run the whole test suite (TEST_WORKERS=2 workers)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

test-fast: env ## Run the tests that need neither Spark nor DVC (TEST_WORKERS=2 workers)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal -m "not slow"

lint: env ## Lint and check formatting with ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: env ## Format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

argo: env ## Regenerate the Argo Workflows YAML in pipeline/argo from its hera source
	$(BIN)/python pipeline/argo/angler_pipeline.py

airflow: env java ## Start Airflow on http://127.0.0.1:8080 with the angler_retrain DAG (SQLite)
	PATH=$(abspath $(BIN)):$$PATH AIRFLOW_HOME=$(abspath .airflow) \
		AIRFLOW__CORE__DAGS_FOLDER=$(abspath pipeline/airflow/dags) \
		AIRFLOW__CORE__LOAD_EXAMPLES=False ANGLER_REPO=$(abspath .) pipeline/airflow/local.sh

.PHONY: spark-cluster
SPARK_CORES ?= 2
SPARK_MEMORY ?= 4g
spark-cluster: env java ## Start a Spark standalone master (spark://127.0.0.1:7077, UI :8081) and a worker; Ctrl-C stops both
	@trap 'kill $$master $$worker 2>/dev/null' EXIT INT TERM; \
	export SPARK_LOCAL_IP=127.0.0.1; \
	$(BIN)/spark-class org.apache.spark.deploy.master.Master --host 127.0.0.1 --port 7077 \
		--webui-port 8081 & master=$$!; \
	$(BIN)/spark-class org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --webui-port 8082 \
		--cores $(SPARK_CORES) --memory $(SPARK_MEMORY) spark://127.0.0.1:7077 & worker=$$!; \
	echo "Spark master spark://127.0.0.1:7077 (UI http://127.0.0.1:8081): set SPARK_MASTER to it"; \
	wait

SERVE_ENV ?= staging
SERVING := .serving
serve: env ## Serve the model k8s/overlays/$(SERVE_ENV) pins, from the model store, on :8501
	$(BIN)/angler fetch-model --promotion k8s/overlays/$(SERVE_ENV)/model.env \
		--out $(abspath $(SERVING))/models --config $(SERVING)/models.config
	@if command -v tensorflow_model_server >/dev/null; then \
		echo "tensorflow_model_server listens on every interface (it has no flag to bind one:"; \
		echo "tensorflow/serving#1969); block :8500 and :8501 from other machines"; \
		exec tensorflow_model_server --port=8500 --rest_api_port=8501 \
			--model_config_file=$(SERVING)/models.config; \
	fi; \
	version=$$(awk -F= '/^ANGLER_MODEL_VERSION=/ {print $$2}' k8s/overlays/$(SERVE_ENV)/model.env); \
	echo "tensorflow_model_server not found: serving registry version $$version with MLflow"; \
	$(BIN)/angler champion --env $(SERVE_ENV) --check-only && \
	exec $(BIN)/mlflow models serve -m models:/angler/$$version --env-manager local --port 8501

clean: ## Remove pipeline outputs (DVC can restore them from its cache)
	rm -rf data reports/data_docs

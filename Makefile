# shopsync — one Makefile for the venv, the local stack, the checks and the deploy path.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV     := .venv
PY       := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM      := $(SAM_VENV)/bin/sam
STAMP    := $(VENV)/.installed
SAM_STAMP := $(SAM_VENV)/.installed
# checkov pins its own boto3/pydantic ranges: its own venv keeps them away from the app's and SAM's.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# What a function sees in Lambda, for bench/cold_import.py: python3.13 with only the layer's requirements and the
# runtime's boto3/botocore (the version requirements-dev.txt pins), none of the dev tools' packages.
LAMBDA_VENV := .venv-lambda
LAMBDA_STAMP := $(LAMBDA_VENV)/.installed

export AWS_DEFAULT_REGION ?= us-east-1
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements-dev.txt layers/shared/requirements.txt
	@test -x $(PY) || $$(scripts/find-python) -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	@touch $@

$(SAM_STAMP): requirements-sam.txt
	@test -x $(SAM_VENV)/bin/python || $$(scripts/find-python) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q -U pip
	$(SAM_VENV)/bin/python -m pip install -q -r requirements-sam.txt
	@touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $$(scripts/find-python) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q -U pip
	$(CHECKOV_VENV)/bin/python -m pip install -q -r requirements-checkov.txt
	@touch $@

$(LAMBDA_STAMP): layers/shared/requirements.txt requirements-dev.txt
	@test -x $(LAMBDA_VENV)/bin/python || $$(scripts/find-python) -m venv $(LAMBDA_VENV)
	$(LAMBDA_VENV)/bin/python -m pip install -q -U pip
	boto3=$$(sed -n 's/^boto3==//p' requirements-dev.txt) && test -n "$$boto3" && \
	  $(LAMBDA_VENV)/bin/python -m pip install -q -r layers/shared/requirements.txt "boto3==$$boto3" "botocore==$$boto3"
	@touch $@

venv: $(STAMP) ## create .venv and install everything

lambda-venv: $(LAMBDA_STAMP) ## create .venv-lambda (python3.13, the layer's requirements + boto3) for bench/cold_import.py

demo: $(STAMP) ## start the embedded stack, run the jobs end to end, print what happened
	$(PY) -m local.demo

up: $(STAMP) ## run the embedded stack in the foreground (API :3000, Shopify emulator :8300, moto :5000)
	$(PY) -m local.stack

lint: $(STAMP) $(SAM_STAMP) checkov ## ruff, mypy, cfn-lint, sam validate, checkov
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml
	$(SAM) validate --template template.yaml --region $(AWS_DEFAULT_REGION)

checkov: $(CHECKOV_STAMP) ## security scan of template.yaml (each exception is justified in the template's Metadata)
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --quiet --compact --skip-download

chromium: ## install Debian's chromium for the Swagger UI browser test (the test also tries this itself)
	@command -v chromium >/dev/null || $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -q chromium

test: lint ## lint + unit, integration and e2e tests
	$(PY) -m pytest -n 2 --dist loadfile -q

bench: $(STAMP) $(LAMBDA_STAMP) ## run the benchmarks and write bench/results.json
	$(PY) -m bench

build: $(SAM_STAMP) ## sam build (python3.13)
	@# sam build needs python3.13 on PATH; a pyenv shim may refuse to run it, so the interpreter find-python chose
	@# goes first.
	PATH="$$(dirname "$$(scripts/find-python)"):$$PATH" $(SAM) build --template template.yaml

deploy: build ## sam deploy (add GUIDED=1 the first time, ENV=prod for production)
	$(SAM) deploy $(if $(GUIDED),--guided,) --config-env $(or $(ENV),default)

format: $(STAMP) ## apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean: ## remove build outputs and the bench's .venv-lambda (keeps .venv, .venv-sam, .venv-checkov)
	rm -rf .aws-sam .mypy_cache .ruff_cache .local-state $(LAMBDA_VENV)

.PHONY: help venv lambda-venv demo up lint checkov chromium test bench build deploy format clean

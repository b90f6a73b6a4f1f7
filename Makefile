# nasfast: the two commands are `make demo` and `make test`. Both create .venv when needed.
# `make test-quick` is the inner loop (lint, the fast pytest tier, the plain C++ kernel tests).
# TORCH_SPEC picks the torch to build against (the CPU wheel here; e.g. TORCH_SPEC='torch>=2.4'
# where a CUDA torch is wanted). NASFAST_CUDA=auto|0|1 is passed through to setup.py.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
CMAKE_BUILD ?= build/cmake
JOBS ?= 2
# Compile jobs of the extension's ninja build (torch's default is every core plus two).
export MAX_JOBS ?= $(JOBS)

.PHONY: demo test test-quick deps install build pytest pytest-quick ctest ctest-quick \
	ctest-build ctest-configure cu-check lint bench clean

# The main job on data shipped inside the package: a short DARTS search on the bundled MNIST
# subset (prints the genotype and the fused/reference step-time ratio), then a multi-objective
# NAS-Bench-201 search on the bundled table (prints the found front against the exact one), and
# accuracy reached vs evaluations spent for REA and the predictor-guided search (bananas).
demo: build
	$(VENV)/bin/nasfast search darts --epochs 1 --train-images 960 --batch-size 32 --channels 4 \
		--layers 3 --order first --threads 1 --time-backends 3 --no-progress --overwrite \
		--out runs/demo-darts
	$(VENV)/bin/nasfast search nsga2 --benchmark nb201 --objectives accuracy,latency:raspi4 \
		--budget 1000 --seed 0 --ref accuracy=85 --out runs/demo-nb201
	$(VENV)/bin/nasfast compare --strategies rea,bananas --baseline rea --budget 100 --seeds 3 \
		--curve 25,50,100

# Every check: lint, pytest, ctest (C++ kernel tests plain and ASan+UBSan, the CUDA host
# emulation plain and ASan+UBSan, nvcc compile checks, CUDA glue and C++17 syntax checks).
# The phases run side by side (the C++ tests build while the extension compiles and pytest
# runs); -O prints each phase's output in one piece when it ends, and -k lets every phase finish.
test:
	$(MAKE) --no-print-directory -k -j $(JOBS) -O lint pytest ctest

test-quick:
	$(MAKE) --no-print-directory -k -j $(JOBS) -O lint pytest-quick ctest-quick

# The Python requirements first (no nasfast build), so the C++ tests need not wait for it.
$(VENV)/.deps: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) .ci/requirements.py test > $(VENV)/requirements.txt
	$(PY) -m pip install -q "$(TORCH_SPEC)" "setuptools>=77" wheel ninja cmake \
		-r $(VENV)/requirements.txt
	touch $@

deps: $(VENV)/.deps

# Editable install; it compiles nasfast._C into build/ext (setup.py), where `build` finds it.
$(VENV)/.installed: $(VENV)/.deps setup.py
	$(PY) -m pip install -q --no-build-isolation --no-deps -e .
	touch $@

install: $(VENV)/.installed

# Incremental rebuild of nasfast._C after source changes (seconds when nothing changed).
build: install
	$(PY) setup.py -q build_ext --inplace

# The Ray tests run in a network namespace that holds only the loopback interface (Ray binds its
# servers to the machine's address even when asked for 127.0.0.1); `unshare -rn` needs no root
# where unprivileged user namespaces are allowed. NASFAST_REQUIRE_RAY=1 makes that file fail
# rather than skip when ray is missing or the namespace has another interface.
pytest: build
	$(PY) -m pytest -q --ignore=tests/test_search_ray.py tests
	unshare -rn sh -c 'ip link set lo up && NASFAST_REQUIRE_RAY=1 \
		$(PY) -m pytest -q -p no:cacheprovider tests/test_search_ray.py'

# The fast tier: everything not marked slow.
pytest-quick: build
	$(PY) -m pytest -q -m "not slow" tests

$(CMAKE_BUILD)/CMakeCache.txt: | $(VENV)/.deps
	mkdir -p $(CMAKE_BUILD)
	$(VENV)/bin/cmake -S . -B $(CMAKE_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_MAKE_PROGRAM=$(abspath $(VENV))/bin/ninja \
		-DCMAKE_PREFIX_PATH="$$($(PY) -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')" \
		-DPython_EXECUTABLE=$(abspath $(PY)) -DPython3_EXECUTABLE=$(abspath $(PY)) \
		> $(CMAKE_BUILD).log 2>&1 || (cat $(CMAKE_BUILD).log; exit 1)

ctest-configure: $(CMAKE_BUILD)/CMakeCache.txt

ctest-build: ctest-configure
	$(VENV)/bin/cmake --build $(CMAKE_BUILD) -j $(JOBS)

# C++ kernel tests, their ASan+UBSan variant, an nvcc compile check of every .cu file, every .cu
# file run on the host under an emulation of CUDA (tests/cuda_emu), a syntax check of the CUDA
# glue against the CPU torch's headers, and of every extension source as C++17.
ctest: ctest-build
	cd $(CMAKE_BUILD) && $(abspath $(VENV))/bin/ctest --output-on-failure -j $(JOBS)

# The plain C++ kernel tests only (ctest label "cpp").
ctest-quick: ctest-configure
	$(VENV)/bin/cmake --build $(CMAKE_BUILD) -j $(JOBS) --target cpp_tests
	cd $(CMAKE_BUILD) && $(abspath $(VENV))/bin/ctest --output-on-failure -j $(JOBS) -L '^cpp$$'

cu-check: ctest-configure
	$(VENV)/bin/cmake --build $(CMAKE_BUILD) --target cu_check

# C++/CUDA sources formatted with .clang-format (clang-format pinned in the test extra).
CXX_SOURCES = $(shell find csrc tests/cpp tests/cuda_emu -type f \( -name '*.h' -o -name '*.cpp' \
	-o -name '*.cu' -o -name '*.cuh' -o -name '*.inc' \))

lint: deps
	$(VENV)/bin/ruff check nasfast tests benchmarks examples
	$(VENV)/bin/ruff format --check nasfast tests benchmarks examples
	$(VENV)/bin/clang-format --dry-run --Werror $(CXX_SOURCES)

bench: build
	$(VENV)/bin/nasfast bench --json benchmarks/results/latest.json

clean:
	rm -rf build nasfast/_C*.so *.egg-info

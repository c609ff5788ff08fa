# Thin wrapper: dependencies, build, demo, tests, benchmarks. The real build is CMake.
BUILD ?= build
ASAN ?= build-asan
JOBS ?= $(shell nproc)

FUZZ_SECONDS ?= 3600
FUZZ_CORES ?= 10000

.PHONY: all deps build asan demo test bench fuzz python-ft clean

all: build

deps:
	@scripts/install-deps test

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The ASan tree also builds the libFuzzer harnesses: `make test` runs each for SNAG_FUZZ_SECONDS.
asan: deps
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DSNAG_SANITIZE=ON -DSNAG_FUZZ=ON >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)

demo: build
	@scripts/demo $(BUILD)

test: build asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600
	cd $(ASAN) && ctest --output-on-failure -j $(JOBS) -L asan --timeout 900

# Long hostile-input runs (docs/reliability.md): the libFuzzer harnesses of the ASan tree for
# FUZZ_SECONDS each, then FUZZ_CORES damaged cores through the release and the ASan snag.
fuzz: build asan
	for h in core_reader command_parser python_reader examine_print module_reader; do \
	  python3 tests/fuzz/run_fuzz.py --snag $(ASAN)/snag --harness $(ASAN)/tests/fuzz/fuzz_$$h \
	    --seconds $(FUZZ_SECONDS) --corpus $(ASAN)/fuzz-corpus/$$h --artifacts $(ASAN)/fuzz-artifacts || exit 1; \
	done
	python3 tests/integration/test_mutated_cores.py --snag $(BUILD)/snag --cases $(FUZZ_CORES) --seed 2 --report $(BUILD)/mutated-cores.json
	python3 tests/integration/test_mutated_cores.py --snag $(ASAN)/snag --cases $$(($(FUZZ_CORES) / 10)) --seed 3 --report $(ASAN)/mutated-cores.json

# A free-threaded CPython 3.13t (--disable-gil), built once into $SNAG_CACHE/python3.13t (about
# 30 minutes on 2 busy cores): the py-bt free-threaded cases skip until it exists.
python-ft:
	@scripts/make-python-ft 3.13

bench: build
	@scripts/install-deps bench
	@bench/run $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN)

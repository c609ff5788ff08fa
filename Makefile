# Thin wrapper: dependencies, build, demo, tests, benchmarks. The real build is CMake.
BUILD ?= build
ASAN ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all deps build asan demo test bench clean

all: build

deps:
	@scripts/install-deps test

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DSNAG_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)

demo: build
	@scripts/demo $(BUILD)

test: build asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600
	cd $(ASAN) && ctest --output-on-failure -j $(JOBS) -L asan --timeout 900

bench: build
	@scripts/install-deps bench
	@bench/run $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN)

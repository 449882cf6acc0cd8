# mmf - build, demo and check without knowing CMake.
#
#   make            configure build/ (Release, warnings as errors) and build
#   make demo       build, then run the example programs (examples/demo.sh)
#   make check      every leg in CHECK_LEGS; fails if any leg fails
#   make format     reformat the sources with .clang-format
#   make fuzz       build the libFuzzer targets (clang, build-fuzz/) and run
#                   each for FUZZ_SECONDS (default 60); not part of check
#   make install    install build/ into PREFIX (default /usr/local)
#   make clean      remove the build directories
#
# Variables: JOBS (parallel jobs, default 2), CMAKE_ARGS (extra -D options
# for every configure), PREFIX, CHECK_LEGS, FUZZ_SECONDS, FUZZ_TARGETS
# (default: all).

CMAKE ?= cmake
CTEST ?= ctest
JOBS ?= 2
PREFIX ?= /usr/local
CMAKE_ARGS ?=

BUILD := build
ASAN_BUILD := build-asan
FUZZ_BUILD := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=

# A test that hangs must not hang the whole run; tests with their own
# TIMEOUT keep it. CTEST_ARGS adds options in every leg (the leg scripts
# read it too), e.g. CTEST_ARGS="-R test_log". It reaches ctest through
# the environment and is split at spaces only, here as in the scripts, so
# a regular expression may hold '|' or '(': CTEST_ARGS="-R test_(log|shm)".
# (Not --repeat: the example journal's tests are a chain of fixtures,
# write then verify, that runs once per ctest run.)
export CTEST_ARGS
CTEST_FLAGS := --output-on-failure -j$(JOBS) --timeout 600 $$CTEST_ARGS

# Sanitizer runtime settings: leaks are errors, UB stops the test with a
# stack trace.
SAN_ENV := ASAN_OPTIONS=detect_leaks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# The legs of `make check`, in order. Each is a target below. Every leg runs
# even after an earlier one failed, and check fails if any leg did.
#   check-m32       32-bit build (gcc -m32, build-m32/) and ctest; skipped
#                   with a message where gcc -m32 cannot link
#   check-windows   mingw-w64 cross build (build-win/), ctest under wine64;
#                   skipped with a message where mingw-w64 or wine is missing
#   check-tsan      ThreadSanitizer build (build-tsan/) of the library and the
#                   tests that use threads or processes; 0 reports; skipped
#                   with a message where -fsanitize=thread does not work
#   check-crash     the log's power-loss harness: a qemu guest killed with
#                   kill -9 while it commits (scripts/check-crash.sh); skipped
#                   with a message where qemu-system-x86_64 is missing
#   check-musl      musl-gcc build, programs linked statically (build-musl/),
#                   ctest natively; skipped where musl-gcc is missing
#   check-aarch64   aarch64-linux-gnu-gcc cross build (build-aarch64/), ctest
#                   under qemu-aarch64-static; skipped where either is missing
#   check-macos     x86_64- and aarch64-macos builds with zig cc
#                   (build-macos-*/): compiled and linked with -Werror, not
#                   run; skipped where zig is missing
CHECK_LEGS ?= check-format check-build check-asan check-m32 check-windows \
  check-tsan check-crash check-musl check-aarch64 check-macos

.PHONY: all build demo check check-format check-build check-asan check-m32 \
  check-windows check-tsan check-crash check-musl check-aarch64 check-macos \
  format install clean bench fuzz

all: build

build:
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DMMF_WERROR=ON \
	  $(CMAKE_ARGS)
	$(CMAKE) --build $(BUILD) -j$(JOBS)

demo: build
	sh examples/demo.sh $(BUILD)
	sh cli/demo.sh $(BUILD)

check:
	@failed=; \
	for leg in $(CHECK_LEGS); do \
	  echo "=== make check: $$leg"; \
	  t0=$$(date +%s); \
	  $(MAKE) --no-print-directory $$leg || failed="$$failed $$leg"; \
	  echo "=== make check: $$leg took $$(($$(date +%s) - t0)) s"; \
	done; \
	if [ -n "$$failed" ]; then \
	  echo "=== make check: FAILED:$$failed"; exit 1; \
	fi; \
	echo "=== make check: passed ($(CHECK_LEGS))"

check-format:
	sh scripts/check-format.sh

check-build: build
	$(CTEST) --test-dir $(BUILD) $(CTEST_FLAGS)

check-asan:
	$(CMAKE) -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	  -DMMF_SANITIZE=ON -DMMF_WERROR=ON $(CMAKE_ARGS)
	$(CMAKE) --build $(ASAN_BUILD) -j$(JOBS)
	$(SAN_ENV) $(CTEST) --test-dir $(ASAN_BUILD) $(CTEST_FLAGS)

check-m32:
	sh scripts/check-m32.sh --skip-ok

check-windows:
	sh scripts/check-windows.sh --skip-ok

check-tsan:
	sh scripts/check-tsan.sh --skip-ok

check-crash:
	sh scripts/check-crash.sh --skip-ok

check-musl:
	sh scripts/check-musl.sh --skip-ok

check-aarch64:
	sh scripts/check-aarch64.sh --skip-ok

check-macos:
	sh scripts/check-macos.sh --skip-ok

format:
	sh scripts/check-format.sh --fix

# libFuzzer needs clang; each target runs FUZZ_SECONDS, one at a time
# (fuzz/README.md).
fuzz:
	$(CMAKE) -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMF_FUZZ=ON -DMMF_BUILD_TESTS=OFF \
	  -DMMF_BUILD_EXAMPLES=OFF $(CMAKE_ARGS)
	$(CMAKE) --build $(FUZZ_BUILD) -j$(JOBS)
	sh scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

install: build
	$(CMAKE) --install $(BUILD) --prefix $(PREFIX)

# The scanning benchmarks (bench/run.sh): minutes, on a quiet machine;
# writes docs/BENCHMARKS.md and docs/benchmarks.png. Never part of check.
bench: build
	bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-m32 build-win build-tsan \
	  build-crash build-musl build-aarch64 build-macos-x86_64 build-macos-arm64

# Convenience front end over meson. Every target installs what is missing
# first (tools/install-deps.sh, needs root), so a fresh Debian 12 machine
# needs exactly `make demo` or `make test`.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all deps build demo test conformance fuzz-smoke ffmpeg bench clean

all: build

deps:
	@sh tools/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS)

# Encode and decode the sample photo with the embedded default model.
demo: build
	@sh tools/demo.sh $(BUILD)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false

# The whole test suite: release build, then the sanitizer build, then the
# conformance suite across configurations, then a short libFuzzer smoke,
# then FFmpeg with lvc in it (ffmpeg/) and its tests.
test: build $(ASAN_BUILD)/build.ninja
	meson test -C $(BUILD) --print-errorlogs --num-processes $(JOBS)
	ninja -C $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C $(ASAN_BUILD) --print-errorlogs --num-processes $(JOBS) --timeout-multiplier 4
	conformance/ci $(BUILD) $(JOBS)
	sh tests/fuzz/run_fuzz.sh -t 15
	sh ffmpeg/build.sh -j $(JOBS) $(BUILD)
	sh ffmpeg/test.sh $(BUILD)

# The conformance matrix alone (ref and cpu at several thread counts,
# cuda where a GPU is present, -O0 and -march=native builds).
conformance: build
	conformance/ci $(BUILD) $(JOBS)

# Each libFuzzer target for 15 s from the committed corpus (clang build in
# build-fuzz; new inputs stay in build-fuzz/fuzz-work).
fuzz-smoke: deps
	sh tests/fuzz/run_fuzz.sh -t 15

# FFmpeg 5.1 (Debian's source package, downloaded once into
# $(BUILD)/ffmpeg/src) with the liblvc codec, parser and filter, and its tests.
ffmpeg: build
	sh ffmpeg/build.sh -j $(JOBS) $(BUILD)
	sh ffmpeg/test.sh $(BUILD)

bench: build
	meson test -C $(BUILD) --benchmark --verbose

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-conf-* build-fuzz

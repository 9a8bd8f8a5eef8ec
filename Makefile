# swift-vmalloc — the two commands: `make bench` (main job) and `make test`.
SWIFT      ?= swift
BENCH_ARGS ?=
APT_PKGS   := libnuma-dev libjemalloc2 libmimalloc2.0 pkg-config

.PHONY: deps build release test test-tsan test-asan bench ci clean fuzz

# Install what a fresh Debian machine lacks (runs as root; uses sudo when not).
deps:
	@missing=""; \
	for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(SWIFT) run vmalloc-bench --quick

# The sanitizers catch SIGSEGV themselves, so the suites that expect a process to die of a
# guard-page fault (or fork a child that does) run only in the plain suite.
SANITIZER_SKIP := --skip 'GuardPageTests|FaultReportTests'

test-tsan: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan $(SANITIZER_SKIP)

test-asan: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	LSAN_OPTIONS=suppressions=$(CURDIR)/.ci/lsan.supp $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan $(SANITIZER_SKIP)

# libFuzzer over the public API (Tests/Fuzz, its own package): the flags go on the command line,
# never in a manifest. lld links it: gold stops with an internal error on the `main` that
# SwiftPM binds to the entry point beside libFuzzer's own. The C shim is instrumented too.
# New corpus entries and crash files go to $(FUZZ_SCRATCH); Tests/Fuzz/Corpus holds the seeds.
FUZZ_SECONDS ?= 60
FUZZ_SCRATCH ?= $(CURDIR)/.build-fuzz
FUZZ_FLAGS := -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
	-Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld -Xcc -fsanitize=fuzzer-no-link,address

fuzz: deps
	cd Tests/Fuzz && $(SWIFT) build -c release --scratch-path $(FUZZ_SCRATCH) $(FUZZ_FLAGS)
	mkdir -p $(FUZZ_SCRATCH)/corpus $(FUZZ_SCRATCH)/artifacts
	SWIFT_BACKTRACE=enable=no LSAN_OPTIONS=suppressions=$(CURDIR)/.ci/lsan.supp \
	$(FUZZ_SCRATCH)/release/FuzzVmalloc -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-timeout=30 -artifact_prefix=$(FUZZ_SCRATCH)/artifacts/ \
		$(FUZZ_SCRATCH)/corpus $(CURDIR)/Tests/Fuzz/Corpus

bench: release
	$(SWIFT) run -c release vmalloc-bench $(BENCH_ARGS)

ci: test test-tsan test-asan

clean:
	rm -rf .build .build-*

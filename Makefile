# swift-vmalloc — the two commands: `make bench` (main job) and `make test`.
SWIFT      ?= swift
BENCH_ARGS ?=
APT_PKGS   := libnuma-dev liburcu-dev libjemalloc2 libmimalloc2.0 pkg-config gnuplot-nox xz-utils

.PHONY: deps build release test test-c test-release test-tsan test-asan bench plot docs examples format lint fuzz ci clean \
	clib install kernel-test map-count check-fresh-build check-snippets

# Swift sources swift-format checks (the toolchain's `swift format`, configured by .swift-format).
FORMAT_PATHS := Package.swift Sources Tests Examples

# Install what a fresh Debian machine lacks (runs as root; uses sudo when not).
deps:
	@missing=""; \
	for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# The C surface: libvmalloc.so with the Swift runtime linked in (no Swift toolchain needed to run
# it), the module harness, the kernel-named headers and their pkg-config files.
PREFIX      ?= /usr/local
VERSION     := 0.3.0
CLIB_SCRATCH := $(CURDIR)/.build-clib
CLIB_FLAGS  := -c release --scratch-path $(CLIB_SCRATCH) -Xswiftc -static-stdlib
KERNEL_HEADERS := Sources/CVmallocKernel/kernel

clib: deps
	$(SWIFT) build $(CLIB_FLAGS) --product vmalloc
	$(SWIFT) build $(CLIB_FLAGS) --product vmalloc-module

install: clib
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/vmalloc
	install -m 755 $(CLIB_SCRATCH)/release/libvmalloc.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(CLIB_SCRATCH)/release/libvmalloc-module.a $(DESTDIR)$(PREFIX)/lib/
	cd $(KERNEL_HEADERS) && find linux vmalloc -name '*.h' -exec install -D -m 644 {} $(DESTDIR)$(PREFIX)/include/vmalloc/{} \;
	for pc in vmalloc vmalloc-module; do \
		sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' scripts/pkgconfig/$$pc.pc.in \
			> $(DESTDIR)$(PREFIX)/lib/pkgconfig/$$pc.pc; \
	done

# The kernel's own lib/test_vmalloc.c (from the linux-source packages, never committed) on an
# installed copy: smoke, performance and stress modes as its selftest script runs them.
KERNEL_TEST_DIR := $(CURDIR)/.build-kernel
kernel-test: deps
	$(MAKE) install PREFIX=$(KERNEL_TEST_DIR)/prefix
	scripts/kernel-test $(KERNEL_TEST_DIR)/prefix $(KERNEL_TEST_DIR)

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

test: deps lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(SWIFT) run vmalloc-bench --quick
	$(MAKE) test-c

# A package that depends on this one, built first with the pkg-config lookup failing (pkg-config not
# installed yet) and then with it working, in one scratch directory: both builds must link.
check-fresh-build: deps
	scripts/check-fresh-build $(CURDIR)/.build-fresh

# Every ```swift block of README.md and the DocC articles, built as the main.swift of a package that
# depends on this one (blocks marked <!-- snippet: fragment --> are skipped); errors name file:line.
check-snippets: deps
	scripts/check-snippets $(CURDIR)/.build-snippets

# The C surface as a C user meets it: an installed copy, every header alone and beside the UAPI
# headers it shadows, C programs and a module built with pkg-config only and run with no Swift.
CTEST_DIR := $(CURDIR)/.build-ctest
test-c:
	$(MAKE) install PREFIX=$(CTEST_DIR)/prefix
	scripts/c-test $(CTEST_DIR)/prefix $(CTEST_DIR)

# The sanitizers catch SIGSEGV themselves, so the suite whose tests expect a process to die of a
# guard-page fault (or fork a child that does) runs only in the plain suite.
SANITIZER_SKIP := --skip 'SegfaultTests'

# The suite as the optimiser builds it (the library's `@testable` import needs -enable-testing, a
# command-line flag, not a manifest setting): code that is right unoptimised can be wrong -O, as a
# swiftc 6.3.1 miscompile of an overlapping two-element move was (chunkMatchesAModel caught it).
test-release: deps
	$(SWIFT) build --build-tests -c release -Xswiftc -enable-testing --scratch-path .build-release-tests
	$(SWIFT) test --skip-build -c release -Xswiftc -enable-testing --scratch-path .build-release-tests

test-tsan: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan $(SANITIZER_SKIP)

test-asan: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	LSAN_OPTIONS=suppressions=$(CURDIR)/.ci/lsan.supp $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan $(SANITIZER_SKIP)

# Every package under Examples/, built by version against a tagged clone of HEAD.
examples: deps
	Examples/run

format:
	$(SWIFT) format format --in-place --parallel --recursive $(FORMAT_PATHS)

# Format, the layers of Sources/Vmalloc one way (the checker first proves it catches a planted
# upward reference), and one architecture text (the DocC article generated from docs/).
lint:
	$(SWIFT) format lint --strict --parallel --recursive $(FORMAT_PATHS)
	scripts/check-layers --self-test
	scripts/check-layers
	scripts/sync-architecture --check

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

bench: release map-count
	$(SWIFT) run -c release vmalloc-bench $(BENCH_ARGS)

# Each worker of full_fit_alloc_test holds the kernel's whole set, 2 x fls(CPUs) x 8192 one-page
# areas at one VMA each, and the suite runs up to one worker per CPU: on 2 CPUs two workers need
# 65,536, over the default vm.max_map_count of 65,530. Raise it (as root, like deps; sudo -n never
# asks) to what every worker needs plus 64 Ki for the rest, so full_fit runs at every thread count.
map-count:
	@n=$$(nproc); fls=0; c=$$n; while [ $$c -gt 0 ]; do fls=$$((fls + 1)); c=$$((c >> 1)); done; \
	need=$$((n * 2 * fls * 8192 + 65536)); now=$$(cat /proc/sys/vm/max_map_count); \
	if [ "$$now" -lt $$need ]; then \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo -n"; \
		if $$SUDO sh -c "echo $$need > /proc/sys/vm/max_map_count" 2>/dev/null; then \
			echo "make: vm.max_map_count $$now -> $$need (full_fit's $$n workers need $$((need - 65536)) VMAs)"; \
		else echo "make: vm.max_map_count stays $$now (not writable): full_fit fails cleanly where workers need more"; fi; \
	fi

# A bench run's --json report drawn as PNG charts (ops/s, thread scaling, p50/p99) in PLOT_DIR.
PLOT_DIR ?= bench-plots
plot: release map-count
	@mkdir -p $(PLOT_DIR)
	$(SWIFT) run -c release vmalloc-bench $(BENCH_ARGS) --json $(PLOT_DIR)/bench.json
	python3 scripts/plot_bench.py $(PLOT_DIR)/bench.json $(PLOT_DIR)

# The DocC archive of the Vmalloc library, built with every warning an error.
DOCS_OUT := .build/plugins/Swift-DocC/outputs/Vmalloc.doccarchive
docs:
	$(SWIFT) package generate-documentation --target Vmalloc --warnings-as-errors
	@echo "docs: $(DOCS_OUT)"

ci: test check-fresh-build check-snippets kernel-test examples docs fuzz test-tsan test-asan

clean:
	rm -rf .build .build-*

# swift-vmalloc — the two commands: `make bench` (main job) and `make test`.
SWIFT      ?= swift
BENCH_ARGS ?=
APT_PKGS   := libnuma-dev libjemalloc2 libmimalloc2.0 pkg-config

.PHONY: deps build release test test-tsan test-asan bench ci clean

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

test-tsan: deps
	$(SWIFT) test --sanitize=thread --scratch-path .build-tsan $(TSAN_FILTER)

test-asan: deps
	$(SWIFT) test --sanitize=address --scratch-path .build-asan $(ASAN_FILTER)

bench: release
	$(SWIFT) run -c release vmalloc-bench $(BENCH_ARGS)

ci: test

clean:
	rm -rf .build .build-*

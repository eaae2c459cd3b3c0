# One command per habit; CI runs the same commands (.ci/run).
CARGO ?= cargo
NEXTEST_PROFILE := $(if $(CI),ci,default)

.PHONY: run prerequisites test lint fmt fmt-check doc snapshots review bench ci

## Run the shipped scenarios against the simulated cloud (the first build shows its progress).
run:
	$(CARGO) run --locked -p mailscope -- run scenarios

## Install what the tests need when it is missing (scripts/prerequisites says what and how).
prerequisites:
	scripts/prerequisites

## Run every test: unit, socket, CLI, and one test per scenario case with its snapshot.
test: prerequisites
	$(CARGO) test --workspace --doc --locked
	MAILSCOPE_PYTHON=$(CURDIR)/target/python/bin/python $(CARGO) nextest run --workspace --locked --profile $(NEXTEST_PROFILE) -E 'not binary(scenarios)'
	$(CARGO) test -p mailscope --test scenarios --locked --quiet

lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all --check

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --locked

## Write snapshots/**/*.snap.new for every new or changed case of every scenario directory, and
## fail when a case failed; review them before accepting (`make review`, or `mailscope review`).
snapshots:
	INSTA_UPDATE=new $(CARGO) nextest run -p mailscope --test scenarios --locked --no-fail-fast; \
	  status=$$?; find snapshots -name '*.snap.new' | sort; exit $$status

## Review pending snapshots (needs: cargo install cargo-insta --locked).
review:
	cargo insta review --workspace-root .

## Measure (release build), each next to a reference in the same run: IMAPS logins from a load
## client in another process against a bare TLS server, the token endpoint over HTTPS, suites of
## 100 to 10,000 cases; then the memory `mailscope serve` holds per idle IMAP session.
bench:
	$(CARGO) bench --locked -p mailscope --bench logins
	$(CARGO) build --locked --quiet -p mailscope
	python3 mocks/benches/idle_sessions.py --sessions 1000

ci: fmt-check lint test

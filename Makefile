# One command per habit; CI runs the same commands (.ci/run).
CARGO ?= cargo
NEXTEST_PROFILE := $(if $(CI),ci,default)

.PHONY: run test lint fmt fmt-check doc snapshots review bench ci

# Jenkins' JUnit schema (junit-10.xsd, MIT, by Gregory Boissinot), which the JUnit test validates
# `mailscope run --format junit` against. Not committed: it is taken from pytest's source
# distribution on PyPI, which ships it, and checked by hash.
JUNIT_XSD := target/junit/junit-10.xsd
PYTEST_SDIST := pytest-8.3.3.tar.gz
PYTEST_SDIST_SHA256 := 70b98107bd648308a7952b06e6ca9a50bc660be218d53c257cc1fc94fda10181

## Run the shipped scenarios against the simulated cloud.
run:
	$(CARGO) run --locked --quiet -p mailscope -- run scenarios

## Run every test: unit, socket, CLI, and one test per scenario case with its snapshot.
test: $(JUNIT_XSD)
	$(CARGO) test --workspace --doc --locked
	$(CARGO) nextest run --workspace --locked --profile $(NEXTEST_PROFILE)

$(JUNIT_XSD):
	mkdir -p target/junit
	python3 -m pip download --quiet --no-binary :all: --no-deps pytest==8.3.3 -d target/junit
	echo "$(PYTEST_SDIST_SHA256)  target/junit/$(PYTEST_SDIST)" | sha256sum --check --quiet
	tar -xzf target/junit/$(PYTEST_SDIST) -C target/junit --strip-components=3 pytest-8.3.3/testing/example_scripts/junit-10.xsd

lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all --check

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --locked

## Write snapshots/**/*.snap.new for new or changed cases; review them before accepting.
snapshots:
	INSTA_UPDATE=new $(CARGO) nextest run -p mailscope --test scenarios --locked || true
	@find snapshots -name '*.snap.new' | sort

## Review pending snapshots (needs: cargo install cargo-insta --locked).
review:
	cargo insta review --workspace-root .

## Measure (release build): SMTP logins per second next to a bare TLS handshake reference; then
## the memory `mailscope serve` holds per idle authenticated IMAP session.
bench:
	$(CARGO) bench --locked -p mailscope-mocks --bench smtp_logins
	$(CARGO) build --locked --quiet -p mailscope
	python3 mocks/benches/idle_sessions.py --sessions 1000

ci: fmt-check lint test

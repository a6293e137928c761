# Palisade build. `make` builds bin/runsc and the test programs; `make test`
# runs everything CI runs; `make bench` prints benchmark ratios.

export PATH := $(PATH):/usr/local/go/bin
GO ?= go
export CGO_ENABLED := 0

.PHONY: all runsc deps test unit-test syscall-test syscall-test-hostnet integration-test vet generate check-generate bench clean e2e oci-validate oci-validate-ci

all: deps runsc
	$(MAKE) -C test/syscalls

deps:
	@scripts/install-deps.sh

runsc:
	$(GO) build -o bin/runsc ./runsc

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

generate:
	$(GO) run ./tools/gencompat > docs/compatibility.md

check-generate:
	@$(GO) run ./tools/gencompat | diff -u docs/compatibility.md - || { echo "docs/compatibility.md is stale: run make generate"; exit 1; }

unit-test:
	$(GO) test $$($(GO) list ./... | grep -v -e /test/integration -e /test/e2e)

integration-test: all
	$(GO) test -count=1 -timeout 25m ./test/integration/

# The C suite talks over loopback only: --network=none keeps runsc do from
# setting up its NAT (docs/network.md) for each of the suite's binaries.
syscall-test: all
	test/syscalls/run --sandbox "$(CURDIR)/bin/runsc --network=none do"

# syscall-test-hostnet runs the network tests with --network=host, in a
# network namespace of their own (root).
syscall-test-hostnet: all
	test/syscalls/run-hostnet "$(CURDIR)/bin/runsc"

# test runs vet, the generated-file check, unit and integration tests, the
# docker end-to-end tests, the network tests with --network=host, and
# finally the C syscall suite natively and sandboxed; its last line is the
# suite's "N passed, M failed, K skipped".
test: all vet check-generate unit-test integration-test e2e oci-validate-ci syscall-test-hostnet syscall-test

# e2e runs docker containers under runc and runsc (root; docs/e2e.md).
# PALISADE_E2E_RUNTIMES=runc limits it to runc.
e2e: runsc
	$(GO) test -count=1 -timeout 20m ./test/e2e/

# oci-validate runs the OCI runtime-tools validation suite against
# bin/runsc (root; docs/oci.md, "Validation suite"). OCI_VALIDATE_FLAGS=--runc
# also runs it against runc for comparison.
oci-validate: runsc
	test/e2e/oci-validate.sh $(OCI_VALIDATE_FLAGS)

# oci-validate-ci is the suite as make test runs it: it fails below a
# score a few executables under today's (33 to 34 of 58; a few of the
# suite's own checks pass or fail by timing), so a regression shows.
oci-validate-ci: runsc
	OCI_MIN_PASS=30 test/e2e/oci-validate.sh

bench: all
	test/bench/run

clean:
	rm -rf bin
	$(MAKE) -C test/syscalls clean

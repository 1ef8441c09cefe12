#!/bin/sh
# `npm test` after build and typecheck: every suite on SQLite (the repository contract suites, the
# Postgres client suite and the multi-instance / database-outage fault tests on Postgres), then every
# suite whose tests open a database again on Postgres (scripts/test-postgres.ts, which lists each file
# it runs or leaves to the first pass, and why). FLAGPOST_TEST_RUN tags the Postgres schemas both passes
# create, so the second pass can fail on any left behind. Both passes always run; the exit status is
# non-zero if either failed.
FLAGPOST_TEST_RUN="${FLAGPOST_TEST_RUN:-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')}"
export FLAGPOST_TEST_RUN
tap
sqlite=$?
tsx scripts/test-postgres.ts
postgres=$?
[ "$sqlite" -eq 0 ] && [ "$postgres" -eq 0 ]

#!/bin/sh
# `npm test` after build and typecheck: every suite on SQLite (the repository contract suites, the
# Postgres client suite and the multi-instance / database-outage fault tests on Postgres), then every
# suite whose tests open a database again on Postgres (scripts/test-postgres.ts, which lists each file
# it runs or leaves to the first pass, and why). FLAGPOST_TEST_RUN tags the Postgres schemas both passes
# create, so the second pass can fail on any left behind. Both passes always run; the exit status is
# non-zero if either failed.
#
# DATABASE_URL / REDIS_URL unset: the local Postgres (postgres://postgres@127.0.0.1:5432/test) and Redis
# (redis://127.0.0.1:6379) are used when they answer within a second, for both passes; one line says
# which suites are skipped otherwise and how to run them (scripts/local-services.ts). Not under CI=true,
# where an unset or unreachable service fails the suites that need it.
eval "$(tsx scripts/local-services.ts)"
FLAGPOST_TEST_RUN="${FLAGPOST_TEST_RUN:-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')}"
export FLAGPOST_TEST_RUN
tap
sqlite=$?
tsx scripts/test-postgres.ts
postgres=$?
[ "$sqlite" -eq 0 ] && [ "$postgres" -eq 0 ]

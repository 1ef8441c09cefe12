#!/bin/sh
# `npm test` after build and typecheck: every suite on SQLite (the repository contract suites on
# memory, SQLite and Postgres), then the app-level suites again on Postgres (scripts/test-postgres.ts).
# Both passes always run; the exit status is non-zero if either failed.
tap
sqlite=$?
tsx scripts/test-postgres.ts
postgres=$?
[ "$sqlite" -eq 0 ] && [ "$postgres" -eq 0 ]

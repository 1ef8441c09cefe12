# Reads npm test's TAP and prints, for each failing test, its file, its name and its failing assertions
# with their diagnostics (at most 40 lines each), then each failing file. .ci/run prints this just above
# its last line, so the tail of a CI log names what failed.
/^# Subtest: / { file = substr($0, 12) }
/^    # Subtest: / { n = 0; delete buf }
/^        / { if (n < 400) buf[++n] = $0 }
/^    not ok [0-9]+ - / {
  print "# FAILED " file " > " substr($0, index($0, " - ") + 3)
  shown = 0; on = 0
  for (i = 1; i <= n; i++) {
    if (buf[i] ~ /^        not ok /) on = 1
    else if (buf[i] ~ /^        (ok|1\.\.|# )/) on = 0
    if (on && shown < 40) { print "#   " substr(buf[i], 9); shown++ }
  }
}
/^not ok [0-9]+ - / { print "# FAILED FILE " substr($0, index($0, " - ") + 3) }

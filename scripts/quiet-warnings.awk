# Drops Python warnings (a "path:line: SomethingWarning: ..." line and its
# indented or continued lines) from a server's console output; the full output
# stays in its log file.
/^[^ ].*:[0-9]+: [A-Za-z0-9]*Warning: / { skip = 1; next }
skip && (/^  / || /^Implementing implicit namespace packages/) { next }
{ skip = 0; print; fflush() }

#!/bin/bash
# Runs all benchmarks and prints the summary table (bench/README.md).
# Not part of ctest: run on demand, on a machine as quiet as you can get.
exec /usr/bin/python3 "$(dirname "$0")/run_all.py" "$@"

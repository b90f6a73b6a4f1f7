#!/usr/bin/env bash
# Wheels the lent GPU machine's image lacks, fetched here into .whl/ (git-ignored through
# .git/info/exclude) for the device tool to carry: moocore and expecttest for the tests, pymoo and
# its small dependencies for `nasfast search` (the CLI imports pymoo). Python 3.12, manylinux.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .git/info .whl
grep -qx "/.whl/" .git/info/exclude 2>/dev/null || echo "/.whl/" >> .git/info/exclude
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
  -d .whl moocore==0.3.2 cffi pycparser platformdirs expecttest pymoo==0.6.2 autograd cma \
  alive-progress about-time graphemeu Deprecated
ls .whl

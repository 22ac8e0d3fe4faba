#!/usr/bin/env bash
# Run the test suite with every dependency declared in pyproject.toml at its declared lower bound.
#
#   bench/lower_bounds.sh [--pin NAME==VERSION]... [PYTEST ARGS...]
#
# Makes a fresh venv (from $PYTHON, default python3) in a temporary folder removed on exit, writes a pip
# constraints file with `NAME==LOWER` for every `NAME>=LOWER` in [project.dependencies],
# [project.optional-dependencies] and [build-system].requires (jaxlib pinned with jax: they are released
# together), installs hatchling and then '.[test]' under those constraints (the wheel is built by the pinned
# hatchling, without build isolation), prints the versions installed and runs `python -m pytest -q -x`
# followed by PYTEST ARGS (e.g. a subset of the tests). `--pin jax==0.5.0` replaces one generated pin
# (for finding the oldest release that passes); transitive dependencies are left to pip (newest allowed).
set -euo pipefail
cd "$(dirname "$0")/.."
pins=()
while [[ $# -gt 0 && $1 == --pin ]]; do
    pins+=("$2")
    shift 2
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"${PYTHON:-python3}" -m venv "$tmp/venv"
# shellcheck disable=SC1091
. "$tmp/venv/bin/activate"
unset PYTHONPATH
python - "$tmp/constraints.txt" ${pins[@]+"${pins[@]}"} <<'PY'
import re
import sys
import tomllib

with open("pyproject.toml", "rb") as f:
    project = tomllib.load(f)
reqs = list(project["project"]["dependencies"]) + list(project["build-system"]["requires"])
for extra in project["project"].get("optional-dependencies", {}).values():
    reqs += extra


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


lower = {}
for req in reqs:
    name, spec = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;]*?)\s*(?:;.*)?", req).groups()
    bounds = [s.strip()[2:].strip() for s in spec.split(",") if s.strip().startswith(">=")]
    if bounds:
        lower.setdefault(norm(name), set()).update(bounds)
pins = {}
for name, bounds in lower.items():
    if len(bounds) > 1:
        sys.exit(f"{name}: different lower bounds {sorted(bounds)} in pyproject.toml")
    pins[name] = bounds.pop()
overrides = {norm(name): version for name, _, version in (p.partition("==") for p in sys.argv[2:])}
pins.update(overrides)
if "jax" in pins and "jaxlib" not in overrides:
    pins["jaxlib"] = pins["jax"]
with open(sys.argv[1], "w") as f:
    f.writelines(f"{name}=={version}\n" for name, version in sorted(pins.items()))
PY
echo "== constraints"
cat "$tmp/constraints.txt"
python -m pip install --quiet -c "$tmp/constraints.txt" hatchling
python -m pip install --quiet --no-build-isolation -c "$tmp/constraints.txt" '.[test]' || {
    echo "lower_bounds.sh: cannot install these pins (a bound that names no release, e.g. lark 1.2.0, or a" \
        "conflict: see pip's message; \`python -m pip index versions NAME\` lists the releases)" >&2
    exit 1
}
echo "== installed"
python -m pip freeze --all | grep -iE '^(hatchling|hypothesis|jax|jaxlib|jsonschema|lark|lsprotocol|ml.dtypes|numpy|numpyro|pip|pygls|pygments|pytest|pytest-asyncio|pytest-lsp|pytest-xdist|ruff|scipy)==' || true
echo "== python -m pytest -q -x $*"
python -m pytest -q -x "$@"

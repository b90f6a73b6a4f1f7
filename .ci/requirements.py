"""Print the project's requirements from pyproject.toml, one per line: the core dependencies and
those of each extra named as an argument. The Makefile installs them before the extension is built,
so that the C++ tests can build while the extension compiles."""

from __future__ import annotations

import sys

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    from pip._vendor import tomli as tomllib


def requirements(extras: list[str]) -> list[str]:
    with open("pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    reqs = list(project["dependencies"])
    for extra in extras:
        reqs += project["optional-dependencies"][extra]
    return reqs


if __name__ == "__main__":
    print("\n".join(requirements(sys.argv[1:])))

"""nasfast: neural-architecture search whose hot paths are compiled kernels.

Packages, top to bottom; each imports only from the ones below it (``tests/test_structure.py``
checks this and that no import cycle exists):

    cli        argument parsing and printing (``nasfast ...``)
    bench      benchmark cases fused vs baseline (``nasfast bench``)
    oneshot    one-shot search: supernet training, then a search over the supernet
    search     strategies and the ask/tell loop (``minimize``), problems, scalarizations
    estimate   estimators: zero-cost proxies, performance predictors, learning curves
    darts      the DARTS family: search network, architect, genotypes, training from scratch
    tabular    tabular benchmarks (NAS-Bench-201), the protocol and reports of a search on them
    hardware   hardware-aware objectives: latency profiles and predictors, memory
    datasets   image data sets by name or path
    nn         nn.Modules on the fused ops (MixedOp, DartsEdge, the NB201 supernet)
    spaces     search spaces (discrete, the NB201 cell: op names, edges, arch strings)
    nasfast    this facade: ops, pareto, build information
    ops        functional ops, one per compiled op, each with its reference twin
    pareto     Pareto engine: sorting, crowding, hypervolume, IGD, scalarization
    core       _atomic, _ext, _version, build_info, cpu_cache, runs, plots, distributed
"""

from nasfast import ops, pareto
from nasfast._version import __version__
from nasfast.build_info import build_info
from nasfast.cpu_cache import cpu_cache_bytes, empty_cpu_cache, max_cpu_cache_bytes

__all__ = [
    "__version__",
    "build_info",
    "cpu_cache_bytes",
    "empty_cpu_cache",
    "max_cpu_cache_bytes",
    "ops",
    "pareto",
]

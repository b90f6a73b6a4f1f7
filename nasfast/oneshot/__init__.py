"""One-shot NAS: train a weight-sharing supernet once, then search over it.

The package sits above ``nasfast.search``: a one-shot method's search phase runs the search
strategies over the trained supernet (see :mod:`nasfast.oneshot.hybrid`), while no strategy needs
a supernet.
"""

from nasfast.oneshot.hybrid import HybridConfig, HybridRun, run_hybrid, search, strategy_settings
from nasfast.oneshot.objective import SupernetObjective
from nasfast.oneshot.supernet_training import seeds_from_alphas, train_alphas, train_supernet

__all__ = [
    "HybridConfig",
    "HybridRun",
    "SupernetObjective",
    "run_hybrid",
    "search",
    "seeds_from_alphas",
    "strategy_settings",
    "train_alphas",
    "train_supernet",
]

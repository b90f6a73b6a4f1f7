"""DARTS and its variants (GDAS, PC-DARTS, P-DARTS, cost-aware): the search network, the
architect, genotypes, the search loop and the derived (trainable) network."""

from nasfast.darts.architect import Architect
from nasfast.darts.genotype import Genotype, derive_cell, derive_genotype
from nasfast.darts.network import SearchNetwork
from nasfast.darts.search import DartsSearch, SearchConfig

__all__ = [
    "Architect",
    "DartsSearch",
    "Genotype",
    "SearchConfig",
    "SearchNetwork",
    "derive_cell",
    "derive_genotype",
]

"""Performance predictors: fit on evaluated architectures, predict unseen ones.

>>> import numpy as np
>>> from nasfast.estimate.predictors import make_predictor
>>> from nasfast.tabular import NB201Benchmark
>>> bench = NB201Benchmark("cifar10", fidelity=200)
>>> cands = bench.space.sample(np.random.default_rng(0), 100)
>>> y = [m["accuracy"] for m in bench(cands)]
>>> pred = make_predictor("mlp", bench.space).fit(cands, y, seed=0)
>>> mean, std = pred.predict_dist(bench.space.sample(np.random.default_rng(1), 5))
"""

from nasfast.estimate.predictors.arch import (
    ENCODINGS,
    MODELS,
    ArchPredictor,
    make_encoding,
    make_predictor,
)
from nasfast.estimate.predictors.base import Predictor
from nasfast.estimate.predictors.encodings import Concat, Encoding, Features, OneHot
from nasfast.estimate.predictors.gcn import GCNPredictor
from nasfast.estimate.predictors.gp import GPPredictor
from nasfast.estimate.predictors.mlp import MLPEnsemble
from nasfast.estimate.predictors.nb201_encodings import NB201Adjacency, NB201Graph, NB201Path
from nasfast.estimate.predictors.nb201_features import (
    low_fidelity_features,
    nb201_table_features,
    table_proxy_features,
)
from nasfast.estimate.predictors.trees import LightGBMPredictor, RandomForestPredictor

__all__ = [
    "ENCODINGS",
    "MODELS",
    "ArchPredictor",
    "Concat",
    "Encoding",
    "Features",
    "GCNPredictor",
    "GPPredictor",
    "LightGBMPredictor",
    "MLPEnsemble",
    "NB201Adjacency",
    "NB201Graph",
    "NB201Path",
    "OneHot",
    "Predictor",
    "RandomForestPredictor",
    "low_fidelity_features",
    "make_encoding",
    "make_predictor",
    "nb201_table_features",
    "table_proxy_features",
]

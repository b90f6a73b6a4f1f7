"""An encoding and a model together: fit on candidates and their metric, query unseen ones."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from nasfast.estimate.predictors.base import Predictor
from nasfast.estimate.predictors.encodings import Concat, Encoding, Features, OneHot
from nasfast.estimate.predictors.gcn import GCNPredictor
from nasfast.estimate.predictors.gp import GPPredictor
from nasfast.estimate.predictors.mlp import MLPEnsemble
from nasfast.estimate.predictors.nb201_encodings import NB201Adjacency, NB201Graph, NB201Path
from nasfast.estimate.predictors.trees import LightGBMPredictor, RandomForestPredictor
from nasfast.spaces.discrete import DiscreteSpace
from nasfast.spaces.nb201 import NB201Space

MODELS: dict[str, type[Predictor]] = {
    "mlp": MLPEnsemble,
    "gcn": GCNPredictor,
    "lgb": LightGBMPredictor,
    "rf": RandomForestPredictor,
    "gp": GPPredictor,
}
ENCODINGS = ("auto", "onehot", "adjacency", "path", "graph")
_NB201_ENCODINGS = {"adjacency": NB201Adjacency, "path": NB201Path, "graph": NB201Graph}

FeatureSource = Encoding | Callable[..., object]


class ArchPredictor:
    """``encoding`` turns candidates into features, ``model`` learns the metric from them."""

    def __init__(self, encoding: Encoding, model: Predictor) -> None:
        if not isinstance(encoding, Encoding):
            raise ValueError(f"encoding: expected an Encoding, got {type(encoding).__name__}")
        if not isinstance(model, Predictor):
            raise ValueError(f"model: expected a Predictor, got {type(model).__name__}")
        self.encoding = encoding
        self.model = model

    @property
    def has_std(self) -> bool:
        return self.model.has_std

    def fit(
        self, cands: Sequence[Sequence[int]], y: object, seed: int | None = None
    ) -> ArchPredictor:
        self.model.fit(self.encoding(cands), y, seed)
        return self

    def predict(self, cands: Sequence[Sequence[int]]) -> np.ndarray:
        return self.model.predict(self.encoding(cands))

    def predict_dist(self, cands: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
        return self.model.predict_dist(self.encoding(cands))

    def __repr__(self) -> str:
        return f"ArchPredictor({self.model.name} on {self.encoding.name})"


def _feature_encodings(features: FeatureSource | Sequence[FeatureSource] | None) -> list[Encoding]:
    if features is None:
        return []
    items = [features] if isinstance(features, Encoding) or callable(features) else features
    out: list[Encoding] = []
    for f in items:
        if isinstance(f, Encoding):
            out.append(f)
        elif callable(f):
            out.append(Features(f))
        else:
            raise ValueError(
                f"features: expected Encoding objects or callables, got {type(f).__name__}"
            )
    return out


def make_encoding(
    name: str,
    space: DiscreteSpace,
    features: FeatureSource | Sequence[FeatureSource] | None = None,
) -> Encoding:
    """Encoding ``name`` of ``space`` (``auto``: path for NAS-Bench-201, else one-hot), with
    ``features`` (callables or encodings: proxy scores, a low-fidelity metric) joined after it."""
    if name not in ENCODINGS:
        raise ValueError(f"encoding: expected one of {', '.join(ENCODINGS)}, got {name!r}")
    if not isinstance(space, DiscreteSpace):
        raise ValueError(f"space: expected a DiscreteSpace, got {type(space).__name__}")
    nb201 = isinstance(space, NB201Space)
    if name == "auto":
        name = "path" if nb201 else "onehot"
    if name == "onehot":
        base: Encoding = OneHot(space)
    elif not nb201:
        raise ValueError(
            f"encoding: {name!r} is defined for NAS-Bench-201 cells; use 'onehot' for "
            f"{type(space).__name__}"
        )
    else:
        base = _NB201_ENCODINGS[name](space)  # type: ignore[arg-type]
    extra = _feature_encodings(features)
    return Concat([base, *extra]) if extra else base


def make_predictor(
    model: str = "mlp",
    space: DiscreteSpace | None = None,
    encoding: str = "auto",
    features: FeatureSource | Sequence[FeatureSource] | None = None,
    **model_kwargs: object,
) -> ArchPredictor:
    """A predictor by name (``mlp``, ``gcn``, ``lgb``, ``rf``, ``gp``) on ``space`` (default the
    NAS-Bench-201 space). ``gcn`` needs the ``graph`` encoding (``auto`` picks it)."""
    if model not in MODELS:
        raise ValueError(f"model: expected one of {', '.join(MODELS)}, got {model!r}")
    space = NB201Space() if space is None else space
    if model == "gcn":
        if encoding not in ("auto", "graph"):
            raise ValueError(
                f"encoding: the gcn model reads the 'graph' encoding, got {encoding!r}"
            )
        enc = make_encoding("graph", space, features)
        n_nodes, n_types = NB201Graph.graph_shape
        return ArchPredictor(enc, GCNPredictor(n_nodes, n_types, **model_kwargs))  # type: ignore[arg-type]
    enc = make_encoding(encoding, space, features)
    return ArchPredictor(enc, MODELS[model](**model_kwargs))  # type: ignore[arg-type]

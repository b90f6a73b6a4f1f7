"""NAS-Bench-201 as a tabular benchmark: every cell's metrics from the table shipped in the package.

The table (``nasfast/data/nb201/nb201_merged.csv.gz``, provenance and licenses beside it) is read
once, lazily, with the csv module and kept as numpy columns. :class:`NB201Benchmark` is the
objective a search calls: it maps op-code candidates to metrics and counts queries
(``nasfast.search.Problem.from_benchmark(bench)`` makes it a search problem).
"""

from __future__ import annotations

import csv
import gzip
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from nasfast import pareto
from nasfast.spaces.nb201 import (
    N_CELLS,
    N_EDGES,
    NB201Space,
    arch_str_to_ops,
    check_ops,
    ops_to_arch_str,
)

DATASETS = ("cifar10", "cifar100", "imagenet16")
_DATASET_ALIASES = {
    "cifar10": "cifar10",
    "cifar10-valid": "cifar10",
    "c10": "cifar10",
    "cifar100": "cifar100",
    "c100": "cifar100",
    "imagenet16": "imagenet16",
    "imagenet16-120": "imagenet16",
    "in16": "imagenet16",
}
# column stems per data set
_ACC12 = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16": "imagenet"}
_SHORT = {"cifar10": "c10", "cifar100": "c100", "imagenet16": "in16"}
_ACC200 = {"cifar10": "c10valid", "cifar100": "c100", "imagenet16": "in16"}
FIDELITIES = (12, 200)
METRICS = ("accuracy", "test_accuracy", "latency:DEVICE", "params", "flops", "zen")
# added as columns by nasfast.hardware (latency:host, latency:PATH.json, memory[:B], ...)
HARDWARE_METRICS = ("memory", "train_memory")

# The zen columns hold -1e8 for cells whose score could not be computed (341 cells): such
# placeholders are missing values (NaN), never numbers to normalize against.
MISSING_BELOW = -1e7

_lock = threading.Lock()
_cache: dict[str, NB201Table] = {}


def default_path() -> Path:
    return Path(str(resources.files("nasfast") / "data" / "nb201" / "nb201_merged.csv.gz"))


def normalize_dataset(dataset: str) -> str:
    key = str(dataset).lower()
    if key not in _DATASET_ALIASES:
        raise ValueError(f"dataset: expected one of {', '.join(DATASETS)}, got {dataset!r}")
    return _DATASET_ALIASES[key]


@dataclass(frozen=True)
class MetricSpec:
    """A user-facing metric name resolved to a table column and a direction."""

    name: str
    column: str
    maximize: bool


class NB201Table:
    """All 15,625 NAS-Bench-201 rows as numpy columns (``NB201Table.load()`` caches)."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"path: no NAS-Bench-201 table at {path}")
        opener = gzip.open if path.suffix == ".gz" else open
        try:
            with opener(path, "rt", newline="") as f:
                reader = csv.reader(f)
                header = next(reader)
                rows = list(reader)
        except (OSError, EOFError, StopIteration, UnicodeDecodeError, csv.Error) as exc:
            why = str(exc) or type(exc).__name__
            raise ValueError(f"path: cannot read {path} ({why}); is it truncated?") from None
        need = {"index", "arch_str", "ops"}
        if not need <= set(header):
            raise ValueError(f"path: {path} lacks the columns {sorted(need - set(header))}")
        col = {name: i for i, name in enumerate(header)}
        if any(len(r) != len(header) for r in rows):
            raise ValueError(f"path: {path} has rows of another length than its header")
        try:
            index = np.array([int(r[col["index"]]) for r in rows], dtype=np.int64)
        except ValueError:
            raise ValueError(f"path: {path} has a non-integer index") from None
        if len(rows) != N_CELLS or not np.array_equal(np.sort(index), np.arange(N_CELLS)):
            raise ValueError(f"path: {path} must hold the {N_CELLS} NAS-Bench-201 indices once")
        order = np.argsort(index)
        rows = [rows[i] for i in order]
        self.path = path
        self.arch_strs: list[str] = [r[col["arch_str"]] for r in rows]
        digits = "".join(r[col["ops"]] for r in rows).encode("ascii")
        self.ops = (np.frombuffer(digits, dtype=np.uint8).reshape(-1, N_EDGES) - 48).astype(np.int8)
        numeric = [h for h in header if h not in need]
        num_idx = [col[h] for h in numeric]
        try:
            data = np.array([[float(r[j]) for j in num_idx] for r in rows], dtype=np.float64)
        except ValueError:
            raise ValueError(f"path: {path} has a non-numeric value in a metric column") from None
        self.columns: dict[str, np.ndarray] = {h: data[:, j] for j, h in enumerate(numeric)}
        self.devices: list[str] = sorted(
            h[len("lat_ms_") :] for h in numeric if h.startswith("lat_ms_")
        )
        # mixed-radix code of the ops (edge 0 most significant) -> official index
        codes = self.ops.astype(np.int64) @ (5 ** np.arange(N_EDGES - 1, -1, -1))
        self._index_by_code = np.full(N_CELLS, -1, dtype=np.int64)
        self._index_by_code[codes] = np.arange(N_CELLS)
        if (self._index_by_code < 0).any():
            raise ValueError(f"path: {path} does not cover every op combination once")

    @classmethod
    def load(cls, path: str | Path | None = None) -> NB201Table:
        """The table at ``path`` (default: the copy shipped with nasfast), read once and cached."""
        key = "<default>" if path is None else str(Path(path).resolve())
        table = _cache.get(key)
        if table is None:
            with _lock:
                if key not in _cache:
                    _cache[key] = cls(default_path() if path is None else path)
                table = _cache[key]
        return table

    def __len__(self) -> int:
        return N_CELLS

    # ---------------------------------------------------------------- encodings
    def index_of(self, ops: Sequence[int]) -> int:
        code = 0
        for v in ops:
            code = code * 5 + int(v)
        return int(self._index_by_code[code])

    def indices_of(self, cands: Sequence[Sequence[int]]) -> np.ndarray:
        C = np.asarray(cands, dtype=np.int64).reshape(-1, N_EDGES)
        return self._index_by_code[C @ (5 ** np.arange(N_EDGES - 1, -1, -1))]

    def ops_of(self, index: int) -> tuple[int, ...]:
        if not 0 <= int(index) < N_CELLS:
            raise ValueError(f"index: expected 0 <= index < {N_CELLS}, got {index}")
        return tuple(int(v) for v in self.ops[int(index)])

    # ---------------------------------------------------------------- metrics
    def column(self, name: str) -> np.ndarray:
        if name not in self.columns:
            raise ValueError(f"column: unknown NAS-Bench-201 column {name!r}")
        return self.columns[name]

    def resolve(self, metric: str, dataset: str = "cifar10", fidelity: int = 200) -> MetricSpec:
        """``accuracy``, ``test_accuracy``, ``latency:DEVICE``, ``params``, ``flops``, ``zen`` or a
        raw column name -> :class:`MetricSpec` (ValueError naming ``metric`` / ``device``)."""
        ds = normalize_dataset(dataset)
        if fidelity not in FIDELITIES:
            raise ValueError(f"fidelity: expected 12 or 200 (epochs), got {fidelity!r}")
        m = str(metric).strip()
        if m == "accuracy":
            col = f"acc12_{_ACC12[ds]}_val" if fidelity == 12 else f"acc200_val_{_ACC200[ds]}"
            return MetricSpec(m, col, True)
        if m == "test_accuracy":
            if fidelity != 12:
                raise ValueError("metric: test_accuracy exists only at fidelity 12 in this table")
            return MetricSpec(m, f"acc12_{_ACC12[ds]}_test", True)
        if m.startswith("latency"):
            _, _, device = m.partition(":")
            if device not in self.devices:
                raise ValueError(
                    f"device: expected latency:DEVICE with DEVICE one of {', '.join(self.devices)}"
                    f", got {device!r}"
                )
            return MetricSpec(m, f"lat_ms_{device}", False)
        if m in ("params", "flops"):
            return MetricSpec(m, f"{m}_M_{_SHORT[ds]}", False)
        if m == "zen":
            return MetricSpec(m, f"zen_{_SHORT[ds]}", True)
        if m.partition(":")[0] in HARDWARE_METRICS and m in self.columns:
            return MetricSpec(m, m, False)
        if m in self.columns:
            return MetricSpec(m, m, not m.startswith(("lat_", "params_", "flops_")))
        raise ValueError(
            f"metric: unknown metric {metric!r}; expected one of {', '.join(METRICS)} "
            "or a column of the table"
        )

    def final_accuracy_column(self, dataset: str) -> str:
        """200-epoch accuracy column: what the NAS-Bench-201 protocol reports."""
        return f"acc200_val_{_ACC200[normalize_dataset(dataset)]}"

    def best(self, column: str, maximize: bool = True) -> tuple[int, float]:
        v = self.column(column)
        i = int(np.argmax(v) if maximize else np.argmin(v))
        return i, float(v[i])


def index_of(arch: str | Sequence[int]) -> int:
    """Official NAS-Bench-201 index of a cell given as arch string or op codes."""
    ops = arch_str_to_ops(arch) if isinstance(arch, str) else check_ops(arch)
    return NB201Table.load().index_of(ops)


def ops_of_index(index: int) -> tuple[int, ...]:
    """Op codes of the cell with official NAS-Bench-201 index ``index``."""
    return NB201Table.load().ops_of(index)


def arch_str_of_index(index: int) -> str:
    return ops_to_arch_str(ops_of_index(index))


class NB201Benchmark:
    """The NB201 objective for a search: candidates (op codes) -> dicts of metrics.

    ``objectives`` are user-facing metric names (see :meth:`NB201Table.resolve`). The search
    fidelity follows the NAS-Bench-201 protocol by default (12-epoch validation accuracy); every
    result also carries ``final_acc``, the 200-epoch accuracy the protocol reports, and ``index``.
    Strategies only read the objectives. ``n_queries`` counts the candidates evaluated.
    ``nasfast.search.Problem.from_benchmark(bench)`` is the search problem over it.
    """

    def __init__(
        self,
        dataset: str = "cifar10",
        objectives: Sequence[str] = ("accuracy",),
        fidelity: int = 12,
        path: str | Path | None = None,
    ) -> None:
        self.dataset = normalize_dataset(dataset)
        if not objectives:
            raise ValueError("objectives: expected at least one metric")
        self.fidelity = fidelity
        self.table = NB201Table.load(path)
        self.specs = [self.table.resolve(m, self.dataset, fidelity) for m in objectives]
        names = [s.name for s in self.specs]
        if len(set(names)) != len(names):
            raise ValueError(f"objectives: duplicate metric in {names}")
        self.final_column = self.table.final_accuracy_column(self.dataset)
        self.space = NB201Space(self.table)
        self.n_queries = 0

    def fingerprint(self) -> dict[str, object]:
        """What identifies this benchmark's numbers (a search checkpoint stores it)."""
        return {
            "benchmark": "nb201",
            "dataset": self.dataset,
            "fidelity": self.fidelity,
            "columns": [s.column for s in self.specs],
            "table": str(self.table.path.resolve()),
        }

    @property
    def objective_names(self) -> list[str]:
        return [s.name for s in self.specs]

    def values(self, column: str) -> np.ndarray:
        """A metric column with placeholders (zen's -1e8) as NaN: an evaluation of such a cell
        fails (its metric is missing) and bounds and fronts leave it out."""
        v = self.table.columns[column]
        if column.startswith("zen_"):
            v = np.where(v < MISSING_BELOW, np.nan, v)
        return v

    def __call__(self, cands: Sequence[Sequence[int]]) -> list[dict[str, float]]:
        idx = self.table.indices_of(cands)
        self.n_queries += len(idx)
        cols = [self.values(s.column)[idx] for s in self.specs]
        final = self.table.columns[self.final_column][idx]
        out = []
        for k, i in enumerate(idx):
            d = {s.name: float(c[k]) for s, c in zip(self.specs, cols, strict=True)}
            d["final_acc"] = float(final[k])
            d["index"] = int(i)
            out.append(d)
        return out

    def bounds(self) -> list[tuple[float, float]]:
        """(min, max) of each objective over the whole table, for normalization."""
        out = []
        for s in self.specs:
            v = self.values(s.column)
            out.append((float(np.nanmin(v)), float(np.nanmax(v))))
        return out

    def objective_matrix(self) -> np.ndarray:
        """(15625, M) matrix of the objectives for every index (raw values, table order)."""
        return np.stack([self.values(s.column) for s in self.specs], axis=1)

    # ---------------------------------------------------------------- exact front scoring
    def normalized_matrix(self) -> np.ndarray:
        """Objectives of every row in minimization form scaled to [0, 1] over the table."""
        out = []
        for s, (lo, hi) in zip(self.specs, self.bounds(), strict=True):
            v = (self.values(s.column) - lo) / max(hi - lo, 1e-300)
            out.append(1.0 - v if s.maximize else v)
        return np.stack(out, axis=1)

    def normalize_point(self, values: Sequence[float]) -> np.ndarray:
        """A point in the objectives' own units -> normalized minimization form."""
        out = []
        for s, (lo, hi), v in zip(self.specs, self.bounds(), values, strict=True):
            x = (float(v) - lo) / max(hi - lo, 1e-300)
            out.append(1.0 - x if s.maximize else x)
        return np.array(out)

    def reference_point(self, overrides: dict[str, float] | None = None) -> np.ndarray:
        """Normalized reference point: the worst value of each objective over the table
        (1.0 after normalization), or the value given in ``overrides`` (the metric's units)."""
        ref = np.ones(len(self.specs))
        for name, v in (overrides or {}).items():
            if name not in self.objective_names:
                raise ValueError(
                    f"ref: {name!r} is not one of the objectives {self.objective_names}"
                )
            i = self.objective_names.index(name)
            point = [self.bounds()[k][0] for k in range(len(self.specs))]
            point[i] = v
            ref[i] = self.normalize_point(point)[i]
        return ref

    def exact_front(self) -> np.ndarray:
        """Official indices of the exact Pareto set of the objectives over the whole table (rows
        with a missing value left out)."""
        N = self.normalized_matrix()
        rows = np.flatnonzero(np.isfinite(N).all(axis=1))
        return np.sort(rows[pareto.pareto_front(N[rows])])

    def score_front(self, indices: Sequence[int], ref: np.ndarray) -> dict[str, float]:
        """Hypervolume of the found set against the exact front's, both normalized, with the
        share of the exact Pareto set found and IGD."""
        N = self.normalized_matrix()
        exact = self.exact_front()
        found = np.unique(np.asarray(indices, dtype=np.int64))
        found = found[np.isfinite(N[found]).all(axis=1)]
        found = found[pareto.pareto_front(N[found])] if len(found) else found
        ref = np.asarray(ref, dtype=np.float64)
        hv_exact = float(pareto.hypervolume(N[exact], ref))
        hv = float(pareto.hypervolume(N[found], ref)) if len(found) else 0.0
        return {
            "hypervolume": hv,
            "hypervolume_exact": hv_exact,
            "hv_ratio": hv / hv_exact if hv_exact > 0 else float("nan"),
            "pareto_found": int(np.isin(exact, found).sum()),
            "pareto_size": int(len(exact)),
            "pareto_share": float(np.isin(exact, found).mean()),
            "igd": float(pareto.igd(N[found], N[exact])) if len(found) else float("inf"),
        }

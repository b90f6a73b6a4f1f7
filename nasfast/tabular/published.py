"""Published NAS-Bench-201 results, to print beside ours.

Source: X. Dong and Y. Yang, "NAS-Bench-201: Extending the Scope of Reproducible Neural
Architecture Search", ICLR 2020, Table 5 (mean +- std over 500 runs; the non-weight-sharing
methods search on the 12-epoch validation accuracy under a simulated time budget, not a count of
evaluations). Each row gives the *validation* accuracy (``valid``) and the *test* accuracy
(``test``) after 200 epochs of the architecture found. The table nasfast ships holds the 200-epoch
validation accuracy (cifar10-valid ``x-valid``), so our numbers compare with the ``valid`` column;
the paper's headline numbers are the ``test`` column. The paper's optimum rows use the benchmark
file of that version and differ slightly from the table's best (91.57 / 73.26 / 47.33).

The paper searched on CIFAR-10 (cifar10-valid) only: its CIFAR-100 and ImageNet16-120 rows are the
CIFAR-10-searched architectures evaluated on those data sets (the author says so in
D-X-Y/AutoDL-Projects issues #64 and #96), so they compare with a nasfast run on ``cifar10``
scored on the other data set, not with a search on that data set.
"""

from __future__ import annotations

CITATION = (
    "Dong & Yang, NAS-Bench-201: Extending the Scope of Reproducible Neural Architecture Search, "
    "ICLR 2020, Table 5"
)

# method -> dataset -> (valid mean, valid std, test mean, test std); std 0 for single values
NB201_PUBLISHED: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "REA": {
        "cifar10": (91.19, 0.31, 93.92, 0.30),
        "cifar100": (71.81, 1.12, 71.84, 0.99),
        "imagenet16": (45.15, 0.89, 45.54, 1.03),
    },
    "RS": {
        "cifar10": (90.93, 0.36, 93.70, 0.36),
        "cifar100": (70.93, 1.09, 71.04, 1.07),
        "imagenet16": (44.45, 1.10, 44.57, 1.25),
    },
    "REINFORCE": {
        "cifar10": (91.09, 0.37, 93.85, 0.37),
        "cifar100": (71.61, 1.12, 71.71, 1.09),
        "imagenet16": (45.05, 1.02, 45.24, 1.18),
    },
    "BOHB": {
        "cifar10": (90.82, 0.53, 93.61, 0.52),
        "cifar100": (70.74, 1.29, 70.85, 1.28),
        "imagenet16": (44.26, 1.36, 44.42, 1.49),
    },
    "ResNet": {
        "cifar10": (90.83, 0.0, 93.97, 0.0),
        "cifar100": (70.42, 0.0, 70.86, 0.0),
        "imagenet16": (44.53, 0.0, 43.63, 0.0),
    },
    "optimal": {
        "cifar10": (91.61, 0.0, 94.37, 0.0),
        "cifar100": (73.49, 0.0, 73.51, 0.0),
        "imagenet16": (46.77, 0.0, 47.31, 0.0),
    },
}


CAVEAT = {
    "cifar10": "",
    "cifar100": "the paper's rows are CIFAR-10-searched architectures scored on CIFAR-100",
    "imagenet16": "the paper's rows are CIFAR-10-searched architectures scored on ImageNet16-120",
}


def published_rows(dataset: str) -> list[tuple[str, str, str]]:
    """(method, valid, test) strings for one data set."""
    rows = []
    for method, per_ds in NB201_PUBLISHED.items():
        vm, vs, tm, ts = per_ds[dataset]
        fmt = (lambda m, s: f"{m:.2f} +- {s:.2f}") if vs or ts else (lambda m, s: f"{m:.2f}")
        rows.append((method, fmt(vm, vs), fmt(tm, ts)))
    return rows

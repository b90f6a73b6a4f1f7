"""Tabular classification: search an MLP model space on the Wisconsin breast-cancer data.

Data: scikit-learn's bundled copy of the Breast Cancer Wisconsin (Diagnostic) data set (569
tumours, 30 features, benign/malignant; W. Wolberg, W. Street, O. Mangasarian, UCI Machine
Learning Repository, CC BY 4.0), loaded by ``sklearn.datasets.load_breast_cancer`` (no download).

The space: width, depth (a repeat of residual blocks), activation, dropout and whether the head
reads the last block or the sum of the stem and the last block (a long skip). Regularized
evolution (nasfast's ``rea``) searches it discretely: each candidate is frozen to a plain model
and trained by the trainer below for ``fidelity`` epochs, scored on a validation split. The
found architecture and a hand-designed MLP of similar size are then trained on
train+validation over several seeds and compared on the held-out test split.

    python examples/tabular_breast_cancer.py            # about two minutes on 2 CPU cores
    python examples/tabular_breast_cancer.py --quick    # a few seconds (what the tests run)
"""

from __future__ import annotations

import argparse
import json
import statistics

import torch
import torch.nn.functional as F
from scipy.stats import mannwhitneyu
from torch import nn

from nasfast.search import make_strategy, minimize
from nasfast.search.model_problem import ModelProblem
from nasfast.spaces.model import InputChoice, LayerChoice, ModelSpace, Repeat, choice


def activations() -> dict[str, nn.Module]:
    return {"relu": nn.ReLU(), "gelu": nn.GELU(), "tanh": nn.Tanh()}


class Block(nn.Module):
    def __init__(self, width: int, dropout: float, i: int):
        super().__init__()
        self.lin = nn.Linear(width, width)
        self.act = LayerChoice(activations(), label=f"act{i}")
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        return x + self.drop(self.act(self.lin(x)))


class TabularNet(nn.Module):
    """The model space: an ordinary nn.Module whose constructor makes choices."""

    def __init__(self, n_features: int, n_classes: int):
        super().__init__()
        width = choice("width", [16, 32, 64])
        dropout = choice("dropout", [0.0, 0.1, 0.3])
        self.stem = nn.Sequential(nn.Linear(n_features, width), nn.ReLU())
        self.blocks = Repeat(lambda i: Block(width, dropout, i), [0, 1, 2], label="depth")
        self.skip = InputChoice(2, 1, label="skip")  # the blocks' output, or it plus the stem
        self.head = nn.Linear(width, n_classes)

    def forward(self, x):
        h = self.stem(x)
        b = self.blocks(h)
        return self.head(self.skip([b, b + h]))


class Baseline(nn.Module):
    """Hand-designed: two hidden layers of ``hidden`` units, ReLU, dropout 0.1."""

    def __init__(self, n_features: int, n_classes: int, hidden: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_features, hidden), nn.ReLU(), nn.Dropout(0.1),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(0.1),
            nn.Linear(hidden, n_classes),
        )  # fmt: skip

    def forward(self, x):
        return self.net(x)


def load_data(seed: int = 0):
    """Standardised features; 60/20/20 train/validation/test split (stratified)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X_tmp, X_te, y_tmp, y_te = train_test_split(X, y, test_size=0.2, random_state=seed, stratify=y)
    X_tr, X_va, y_tr, y_va = train_test_split(
        X_tmp, y_tmp, test_size=0.25, random_state=seed, stratify=y_tmp
    )
    scaler = StandardScaler().fit(X_tr)

    def t(a, b):
        return torch.tensor(scaler.transform(a), dtype=torch.float32), torch.tensor(b)

    return t(X_tr, y_tr), t(X_va, y_va), t(X_te, y_te)


def train(model: nn.Module, data, epochs: int, seed: int, batch: int = 64) -> nn.Module:
    torch.manual_seed(seed)
    x, y = data
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    g = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=g).split(batch):
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


@torch.no_grad()
def accuracy(model: nn.Module, data) -> float:
    x, y = data
    return float((model(x).argmax(1) == y).float().mean())


def params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few seconds: tiny budget and epochs")
    ap.add_argument("--budget", type=int, default=None, help="architectures evaluated")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    budget = args.budget or (6 if args.quick else 40)
    epochs, final_epochs, seeds = (3, 5, 2) if args.quick else (30, 60, 5)
    torch.set_num_threads(1)

    tr, va, te = load_data(args.seed)
    space = ModelSpace(TabularNet, tr[0].shape[1], 2)

    def evaluate(model: nn.Module, fidelity: int) -> dict:
        train(model, tr, fidelity, args.seed)
        return {"val_acc": accuracy(model, va), "params": params(model)}

    problem = ModelProblem(space, evaluate, ["max:val_acc"], fidelity=epochs)
    strategy = make_strategy("rea", population_size=min(10, budget), sample_size=3)
    result = minimize(problem, strategy, budget, seed=args.seed)
    best = problem.space.arch(result.best.candidate)

    trval = (torch.cat([tr[0], va[0]]), torch.cat([tr[1], va[1]]))
    found = [accuracy(train(space.freeze(best), trval, final_epochs, s), te) for s in range(seeds)]
    n_found = params(space.freeze(best))
    hidden = min(range(4, 257), key=lambda h: abs(params(Baseline(tr[0].shape[1], 2, h)) - n_found))
    base = [accuracy(train(Baseline(tr[0].shape[1], 2, hidden), trval, final_epochs, s), te)
            for s in range(seeds)]  # fmt: skip
    report = {
        "data": "breast cancer (UCI via scikit-learn), 569 x 30",
        "evaluated": result.n_evals,
        "found_arch": json.loads(space.to_json(best)),
        "found_params": n_found,
        "found_test_acc_mean": statistics.mean(found),
        "baseline": f"MLP {tr[0].shape[1]}-{hidden}-{hidden}-2, ReLU, dropout 0.1",
        "baseline_params": params(Baseline(tr[0].shape[1], 2, hidden)),
        "baseline_test_acc_mean": statistics.mean(base),
        "seeds": seeds,
        # two-sided Mann-Whitney U over the training seeds: found vs baseline
        "p_value": float(mannwhitneyu(found, base).pvalue),
    }
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()

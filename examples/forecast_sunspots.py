"""Time-series forecasting: one-shot search (SPOS, then evolution) of a 1-D CNN forecaster on the
yearly sunspot numbers.

Data: the yearly mean sunspot numbers 1700-2008 bundled with statsmodels
(``statsmodels.datasets.sunspots``; from NOAA's National Geophysical Data Center, public domain),
no download. Each sample is a window of ``LOOKBACK`` years (scaled by the training maximum); the
target is the next year. Train 1700-1929, validation 1930-1969, test 1970-2008.

The space: per layer a kernel size (a layer choice built from values) and an activation; the
depth (a repeat); whether the head also reads the raw window (an input choice between the
convolutional features and their sum with a linear autoregressive path). SPOS trains one
weight-sharing supernet with uniformly sampled paths, regularized evolution then picks the path
with the lowest validation error on the trained supernet, and the found architecture is
retrained from scratch and compared on the test years with a hand-designed CNN of similar size
and with the naive forecast (next year = this year).

    python examples/forecast_sunspots.py            # about two minutes on 2 CPU cores
    python examples/forecast_sunspots.py --quick    # a few seconds (what the tests run)
"""

from __future__ import annotations

import argparse
import json
import statistics

import torch
import torch.nn.functional as F
from scipy.stats import mannwhitneyu
from torch import nn

from nasfast.oneshot.model_spos import evolve_spos, train_spos
from nasfast.oneshot.model_supernet import ModelSupernet
from nasfast.spaces.model import InputChoice, LayerChoice, ModelSpace, Repeat

LOOKBACK = 16
CHANNELS = 16


def conv(k: int) -> nn.Module:
    return nn.Conv1d(CHANNELS, CHANNELS, k, padding=k // 2)


class ConvLayer(nn.Module):
    def __init__(self, i: int):
        super().__init__()
        self.conv = LayerChoice.from_values(f"kernel{i}", [3, 5, 7], conv)
        self.act = LayerChoice({"relu": nn.ReLU(), "tanh": nn.Tanh(), "gelu": nn.GELU()}, f"act{i}")

    def forward(self, x):
        return x + self.act(self.conv(x))


class Forecaster(nn.Module):
    """The model space (channels fixed: shared weights need fixed shapes)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv1d(1, CHANNELS, 1)
        self.body = Repeat(ConvLayer, [1, 2, 3], label="depth")
        self.head = nn.Linear(CHANNELS * LOOKBACK, 1)
        self.linear_ar = nn.Linear(LOOKBACK, 1)
        self.output = InputChoice(2, 1, label="output")  # CNN alone, or CNN + linear AR path

    def forward(self, x):  # x: [batch, LOOKBACK]
        h = self.body(self.stem(x.unsqueeze(1)))
        cnn = self.head(h.flatten(1))
        return self.output([cnn, cnn + self.linear_ar(x)]).squeeze(1)


class Baseline(nn.Module):
    """Hand-designed: two 3-tap conv layers of ``c`` channels with ReLU and a linear head."""

    def __init__(self, c: int = CHANNELS):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(1, c, 1),
            nn.Conv1d(c, c, 3, padding=1), nn.ReLU(),
            nn.Conv1d(c, c, 3, padding=1), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Linear(c * LOOKBACK, 1)

    def forward(self, x):
        return self.head(self.body(x.unsqueeze(1)).flatten(1)).squeeze(1)


def load_data():
    """(train, val, test) windows as tensors, values scaled by the training maximum."""
    import statsmodels.api as sm

    df = sm.datasets.sunspots.load_pandas().data
    years = df["YEAR"].to_numpy().astype(int)
    values = torch.tensor(df["SUNACTIVITY"].to_numpy(), dtype=torch.float32)
    scale = float(values[years < 1930].max())
    v = values / scale
    X = torch.stack([v[i : i + LOOKBACK] for i in range(len(v) - LOOKBACK)])
    y = v[LOOKBACK:]
    target_year = torch.tensor(years[LOOKBACK:])
    parts = [
        (target_year < 1930),
        (target_year >= 1930) & (target_year < 1970),
        target_year >= 1970,
    ]
    return [(X[m], y[m]) for m in parts], scale


def fit(model: nn.Module, data, epochs: int, seed: int, batch: int = 32) -> nn.Module:
    torch.manual_seed(seed)
    x, y = data
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=g).split(batch):
            loss = F.mse_loss(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


@torch.no_grad()
def mae(model: nn.Module, data, scale: float) -> float:
    x, y = data
    return float((model(x) - y).abs().mean()) * scale


def params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few seconds: tiny budget and epochs")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    spos_steps, budget, epochs, seeds = (20, 6, 5, 2) if args.quick else (1500, 60, 300, 5)
    torch.set_num_threads(1)

    (tr, va, te), scale = load_data()
    space = ModelSpace(Forecaster)
    torch.manual_seed(args.seed)
    supernet = ModelSupernet(space)
    train_spos(
        supernet, tr, steps=spos_steps, batch_size=32, lr=0.02, loss=F.mse_loss, seed=args.seed
    )
    result = evolve_spos(
        supernet,
        va,
        budget=budget,
        loss=F.mse_loss,
        strategy_kwargs={"population_size": min(12, budget), "sample_size": 3},
        seed=args.seed,
    )
    best = space.discrete().arch(result.best.candidate)

    found = [mae(fit(space.freeze(best), tr, epochs, s), te, scale) for s in range(seeds)]
    n_found = params(space.freeze(best))
    c = min(range(2, 129), key=lambda c: abs(params(Baseline(c)) - n_found))  # similar size
    base = [mae(fit(Baseline(c), tr, epochs, s), te, scale) for s in range(seeds)]
    naive = float((te[0][:, -1] - te[1]).abs().mean()) * scale
    report = {
        "data": "yearly sunspot numbers 1700-2008 (statsmodels, public domain)",
        "evaluated_on_supernet": result.n_evals,
        "found_arch": json.loads(space.to_json(best)),
        "found_params": n_found,
        "found_test_mae_mean": statistics.mean(found),
        "baseline": f"two 3-tap conv layers of {c} channels, ReLU, linear head",
        "baseline_params": params(Baseline(c)),
        "baseline_test_mae_mean": statistics.mean(base),
        "naive_test_mae": naive,
        "seeds": seeds,
        # two-sided Mann-Whitney U over the training seeds: found vs baseline
        "p_value": float(mannwhitneyu(found, base).pvalue),
    }
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()

"""Record a real Fashion-MNIST DARTS run: the found cell trained from scratch beside a
hand-designed cell of similar size, same skeleton, same training settings.

    python benchmarks/darts_fashion_mnist.py SEARCH_DIR [--epochs 2 --train-images 10000 ...]

SEARCH_DIR holds the output of `nasfast search darts --dataset fashion-mnist ...` (genotype.json,
metrics.jsonl). Writes benchmarks/results/darts_fashion_mnist.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os

import torch

from nasfast.bench.environment import environment
from nasfast.darts.genotype import Genotype
from nasfast.darts.model import GenotypeNetwork, count_parameters
from nasfast.darts.train import TrainConfig, train_network
from nasfast.datasets import load_images

# A hand-designed cell: every node sums two sep_conv_3x3 of the two cell inputs (the
# "all separable 3x3" cell of the DARTS/NASNet literature's ablations), max-pool reductions.
BASELINE = Genotype.from_dict(
    {
        "normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1]] * 4,
        "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1]] * 4,
    }
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("search_dir")
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--train-images", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    found = Genotype.load(os.path.join(args.search_dir, "genotype.json"))
    with open(os.path.join(args.search_dir, "genotype.json")) as f:
        search_meta = json.load(f)
    data = load_images("fashion-mnist")
    C_in, H, W = data.shape

    def build(g: Genotype, C: int) -> GenotypeNetwork:
        torch.manual_seed(0)
        return GenotypeNetwork(
            g, C, data.num_classes, args.layers, in_channels=C_in, image_size=(H, W)
        )

    target = count_parameters(build(found, args.channels))
    # baseline width: the channel count whose parameter count is closest to the found network's
    c_base = min(
        range(2, 4 * args.channels + 1, 2),
        key=lambda c: abs(count_parameters(build(BASELINE, c)) - target),
    )
    cfg = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        cutout=False,
        drop_path=0.0,
        train_images=args.train_images,
        seed=0,
    )
    rows = {}
    for name, g, C in [("found", found, args.channels), ("baseline", BASELINE, c_base)]:
        net = build(g, C)
        res = train_network(net, data, cfg, progress=False)
        res.update(channels=C, params=count_parameters(net), genotype=g.describe())
        rows[name] = res
        print(name, res, flush=True)
    record = {
        "environment": environment(),
        "search": {
            "dataset": "fashion-mnist",
            "search_seconds": search_meta.get("search_seconds"),
            "steps": search_meta.get("steps"),
            "config": search_meta.get("config"),
            "genotype": {"normal": search_meta["normal"], "reduce": search_meta["reduce"]},
        },
        "train": {
            "layers": args.layers,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "train_images": args.train_images,
            "test_images": int(data.x_test.shape[0]),
        },
        "results": rows,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "darts_fashion_mnist.json"), "w") as f:
        json.dump(record, f, indent=1)
    s = record["search"]
    lines = [
        "# DARTS on Fashion-MNIST (CPU, small budget)",
        "",
        f"Machine: {record['environment'].get('cpu')}, torch {record['environment'].get('torch')},"
        f" commit {record['environment'].get('commit')}, {args.threads} thread(s).",
        "",
        f"Search: {s['steps']} steps in {s['search_seconds']:.0f} s; settings {s['config']}.",
        "",
        f"Training from scratch: {args.layers} cells, {args.epochs} epochs on "
        f"{args.train_images} training images, batch {args.batch_size}, SGD lr 0.025 cosine; "
        f"test on all {record['train']['test_images']} test images.",
        "",
        "| network | cell | channels | params | test accuracy | train time |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        cell = r["genotype"].replace("\n", "<br>")
        lines.append(
            f"| {name} | {cell} | {r['channels']} | {r['params']} | "
            f"{100 * r['test_acc']:.2f}% | {r['train_seconds']:.0f} s |"
        )
    with open(os.path.join(args.out, "darts_fashion_mnist.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

"""Flags and checks shared by the commands that train networks on image data."""

from __future__ import annotations

import argparse

DATASETS_HELP = "mnist-small (shipped) | mnist10k | fashion-mnist | cifar10 | PATH"


class DefaultsFormatter(argparse.HelpFormatter):
    """Help that ends with ``(default: X)`` for every option with a default worth showing
    (not None, not False, not already mentioned); a help ending in the bare value, ``(X)``,
    has it spelled ``(default: X)`` instead."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default is None
            or default is False
            or default is argparse.SUPPRESS
            or not action.option_strings
        ):
            return text
        if isinstance(default, (list, tuple)):
            default = ",".join(map(str, default))
        default = str(default).replace("%", "%%")  # argparse %-formats the help text
        bare = f" ({default})"
        if text.endswith(bare):
            text = text[: -len(bare)]
        return f"{text} (default: {default})"


def add_image_data_args(
    g: argparse._ActionsContainer, default: str, dataset_help: str, train_images_help: str
) -> None:
    g.add_argument("--dataset", default=default, help=dataset_help)
    g.add_argument(
        "--train-images", type=int, default=None, help=train_images_help + " (default: all)"
    )


def add_device_args(g: argparse._ActionsContainer) -> None:
    g.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    add_threads_arg(g, "torch.set_num_threads")


def add_threads_arg(g: argparse._ActionsContainer, help: str) -> None:
    g.add_argument("--threads", type=int, default=None, help=help + " (default: torch's)")


def set_threads(threads: int | None) -> None:
    """``torch.set_num_threads(threads)`` unless None; a count below 1 is a user error."""
    import torch

    if threads is None:
        return
    if threads < 1:
        raise ValueError(f"--threads: expected a positive count, got {threads}")
    torch.set_num_threads(threads)


def freeze_gc() -> None:
    """Exempt every object alive now (torch's ~170k import-time objects, the data, the model)
    from Python's cyclic garbage collector, before a training loop. The loop's short-lived
    tensors still get collected, but the periodic full collections no longer walk everything:
    they took ~5% of a fused DARTS edge step in perf, ~1.4% after this."""
    import gc

    gc.collect()
    gc.freeze()


def check_device(device: str) -> None:
    """``cpu`` or an available ``cuda[:N]``, else a one-line user error."""
    import torch

    if device != "cpu" and not device.startswith("cuda"):
        raise ValueError(f"--device: expected cpu or cuda[:N], got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device: {device} requested but CUDA is not available")


def add_progress_arg(g: argparse._ActionsContainer) -> None:
    g.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: on when stderr is a terminal)",
    )


def progress_of(args: argparse.Namespace) -> bool:
    """``--progress`` / ``--no-progress``, else whether stderr is a terminal."""
    import sys

    if args.progress is not None:
        return bool(args.progress)
    return sys.stderr.isatty()


def add_run_folder_args(g: argparse._ActionsContainer, checkpoint: str) -> None:
    g.add_argument(
        "--resume",
        action="store_true",
        help=f"continue the run in --out from its {checkpoint} (same settings required)",
    )
    g.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run already in --out (without it, such a folder is refused)",
    )


def check_rounds(name: str, value: int) -> None:
    if value < 0:
        raise ValueError(f"{name}: expected a count >= 0, got {value}")

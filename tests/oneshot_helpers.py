"""Tiny NB201 data and supernets shared by the one-shot tests."""

import torch

from nasfast.nn import NB201Supernet


def tiny_images(n=48, size=8, channels=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, channels, size, size, generator=g)
    y = torch.randint(0, 3, (n,), generator=g)
    return x, y


def tiny_supernet(seed=0):
    torch.manual_seed(seed)
    return NB201Supernet(C=2, N=1, num_classes=3, in_channels=1)

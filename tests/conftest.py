import pytest
import torch

CUDA = torch.cuda.is_available()
requires_cuda = pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU")


def devices() -> list[str]:
    return ["cpu", "cuda"] if CUDA else ["cpu"]

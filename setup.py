"""Build nasfast._C against the installed torch.

C++ CPU kernels are always compiled (OpenMP). CUDA kernels (csrc/**/cuda/*.cu and their
*_glue.cpp) are compiled when torch was built with CUDA and nvcc is found, unless
NASFAST_CUDA=0; NASFAST_CUDA=1 makes a missing CUDA toolchain an error instead of a CPU build.
"""

from __future__ import annotations

import glob
import os
import shutil

from setuptools import setup

ROOT = os.path.dirname(os.path.abspath(__file__))


def _cuda_requested() -> bool:
    import torch

    mode = os.environ.get("NASFAST_CUDA", "auto").lower()
    if mode not in {"auto", "0", "1"}:
        raise SystemExit(f"NASFAST_CUDA: expected auto, 0 or 1, got {mode!r}")
    if mode == "0":
        return False
    have = torch.version.cuda is not None and _find_cuda_home() is not None
    if mode == "1" and not have:
        raise SystemExit(
            "NASFAST_CUDA=1 but torch has no CUDA "
            f"(torch.version.cuda={torch.version.cuda}) or nvcc was not found"
        )
    return have


def _find_cuda_home() -> str | None:
    if os.environ.get("CUDA_HOME"):
        return os.environ["CUDA_HOME"]
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        return None
    # /usr/local/bin/nvcc may be a wrapper script; prefer a real toolkit directory.
    for cand in sorted(glob.glob("/usr/local/cuda-*")) + ["/usr/local/cuda"]:
        if os.path.exists(os.path.join(cand, "bin", "nvcc")):
            return cand
    return os.path.dirname(os.path.dirname(os.path.realpath(nvcc)))


# CPU kernel sources (csrc/**/cpu/*_kernels.cpp) are compiled once per ISA, as PyTorch's
# CPU_CAPABILITY: as they are for the baseline, and through a generated one-line wrapper per
# further capability (csrc/common/cpu_capability.h); the op picks a copy at run time.
CPU_CAPABILITIES = ("AVX2",)
CAPABILITY_DIR = os.path.join("build", "cpu_capability")


def _capability_copies(kernels: list[str]) -> list[str]:
    copies = []
    for src in kernels:
        rel = os.path.relpath(src, "csrc")
        for cap in CPU_CAPABILITIES:
            dst = os.path.join(CAPABILITY_DIR, f"{rel}.{cap}.cpp")
            text = f'#define NASFAST_CPU_CAPABILITY_{cap} 1\n#include "{rel}"\n'
            if not os.path.exists(dst) or open(dst).read() != text:  # keep mtimes: no rebuild
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                with open(dst, "w") as f:
                    f.write(text)
            copies.append(dst)
    return copies


def _sources(with_cuda: bool) -> list[str]:
    cpp = sorted(glob.glob("csrc/**/*.cpp", recursive=True))
    glue = [s for s in cpp if "/cuda/" in s]
    srcs = [s for s in cpp if s not in glue]
    srcs += _capability_copies([s for s in srcs if s.endswith("_kernels.cpp") and "/cpu/" in s])
    if with_cuda:
        srcs += glue + sorted(glob.glob("csrc/**/*.cu", recursive=True))
    return srcs


def _extension():
    from torch.utils.cpp_extension import CppExtension, CUDAExtension

    with_cuda = _cuda_requested()
    cxx = ["-O3", "-g0", "-fopenmp", "-Wno-psabi", "-DNASFAST_VERSION=\"" + _version() + "\""]
    kwargs: dict = dict(
        name="nasfast._C",
        sources=_sources(with_cuda),
        include_dirs=[os.path.join(ROOT, "csrc")],
        extra_link_args=["-fopenmp"],
    )
    if with_cuda:
        os.environ.setdefault("CUDA_HOME", _find_cuda_home() or "")
        os.environ.setdefault("TORCH_CUDA_ARCH_LIST", "8.0;9.0+PTX")
        cxx.append("-DNASFAST_WITH_CUDA")
        kwargs["extra_compile_args"] = {
            "cxx": cxx,
            "nvcc": ["-O3", "-std=c++17", "--expt-relaxed-constexpr", "-DNASFAST_WITH_CUDA"],
        }
        return CUDAExtension(**kwargs)
    kwargs["extra_compile_args"] = {"cxx": cxx}
    return CppExtension(**kwargs)


def _version() -> str:
    with open(os.path.join(ROOT, "nasfast", "_version.py")) as f:
        return f.read().split("=")[1].strip().strip("\"'")


def _build_ext_class():
    from torch.utils.cpp_extension import BuildExtension

    class BuildExt(BuildExtension.with_options(use_ninja=True)):
        """One object directory for every build: pip's editable install (which would otherwise
        compile in a fresh temporary directory) and `setup.py build_ext --inplace` share ninja's
        objects, so the second finds nothing to compile."""

        def finalize_options(self) -> None:
            super().finalize_options()
            self.build_temp = os.path.join(ROOT, "build", "ext")

    return BuildExt


if __name__ == "__main__":
    setup(ext_modules=[_extension()], cmdclass={"build_ext": _build_ext_class()})

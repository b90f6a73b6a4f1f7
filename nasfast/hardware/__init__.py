"""Hardware-aware objectives measured on the user's own device: a latency lookup table and
predictor (:mod:`~nasfast.hardware.latency`) and the analytic peak memory of a network
(:mod:`~nasfast.hardware.memory`)."""

from nasfast.hardware.latency import LatencyPredictor
from nasfast.hardware.memory import MemoryEstimate, inference_memory, training_memory
from nasfast.hardware.profile import profile_modules
from nasfast.hardware.space_profile import profile_space
from nasfast.hardware.table import LatencyTable
from nasfast.hardware.timing import TimingSettings
from nasfast.hardware.workspace import Workspaces

__all__ = [
    "LatencyPredictor",
    "LatencyTable",
    "MemoryEstimate",
    "TimingSettings",
    "Workspaces",
    "inference_memory",
    "profile_modules",
    "profile_space",
    "training_memory",
]

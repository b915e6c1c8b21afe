"""The config of ``system`` checks."""

from __future__ import annotations

from watchkeeper.config.specs.base import Spec
from watchkeeper.config.types import Duration


class SystemSpec(Spec):
    """Host figures from psutil → ``cpu_percent``, ``memory_used_percent``, ``disk_used_percent`` …"""

    disk: str = "/"
    cpu_sample: Duration = 0.2

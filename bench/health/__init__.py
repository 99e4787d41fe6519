"""Drive health from SMART: read (smartctl), grade (with every reason), self-test, host load.

    from bench.health import check_device, check_file, grade, parse_health, load_thresholds

- `parse_health(text) -> Health`           pure, from `smartctl --json=c -x` output (bench.health.smart)
- `grade(health, thresholds) -> Assessment` good/fair/poor/fail/unknown + confidence (bench.health.grade)
- `check_device(devnode, device=..., store=...) -> HealthReport`  read + grade + `health.result` record
- `check_file(path, store=None) -> HealthReport`                  grade a captured output
- `bench.health.selftest.run_selftest(devnode, "short", store=...)` self-test job
- `bench.health.host.snapshot() -> HostSnapshot`                 the bench PC's CPU/IO/memory load
"""

from bench.health.check import HealthReport, SmartRead, check_device, check_file, read_smart
from bench.health.grade import Assessment, Thresholds, grade, load_thresholds
from bench.health.smart import Health, parse_health

__all__ = [
    "Assessment",
    "Health",
    "HealthReport",
    "SmartRead",
    "Thresholds",
    "check_device",
    "check_file",
    "grade",
    "load_thresholds",
    "parse_health",
    "read_smart",
]

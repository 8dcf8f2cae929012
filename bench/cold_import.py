"""Handler cold import time: each functions/*/app.py imported in a fresh interpreter, against a bare Powertools
handler (Logger, Tracer, Metrics and a handler) imported the same way in the same run. Only the import is timed, not
the interpreter's start; each module is imported `repeats` times and its median kept.

    python -m bench.cold_import [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE_MODULE = "bare_powertools_handler"
BARE_HANDLER = '''"""The least a Powertools handler imports: what shopsync's handlers are compared with."""
from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="bare")
tracer = Tracer(service="bare")
metrics = Metrics(namespace="Bare", service="bare")


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event, context):
    return {"ok": True}
'''
TIMED_IMPORT = (
    "import importlib, sys, time; started = time.perf_counter(); importlib.import_module(sys.argv[1]); "
    "print(time.perf_counter() - started)"
)
# What Lambda sets, and what keeps Tracer from looking for an X-Ray daemon: the same for every module measured.
LAMBDA_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "TABLE_NAME": "bench",
}


@dataclass(frozen=True)
class ColdImports:
    bare_s: float
    handlers_s: dict[str, float]  # functions.<name>.app → seconds
    worst_extra_imports: list[tuple[str, float]]  # what the slowest handler imports beyond the bare one

    @property
    def worst(self) -> tuple[str, float]:
        return max(self.handlers_s.items(), key=lambda item: item[1])

    @property
    def ratio(self) -> float:
        return self.worst[1] / self.bare_s


def handler_modules() -> list[str]:
    return sorted(f"functions.{app.parent.name}.app" for app in (ROOT / "functions").glob("*/app.py"))


def _environment(extra_path: str) -> dict[str, str]:
    environment = {**os.environ, **LAMBDA_ENVIRONMENT}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [extra_path, str(ROOT), environment.get("PYTHONPATH")]))
    return environment


def import_seconds(module: str, environment: dict[str, str]) -> float:
    completed = subprocess.run(
        [sys.executable, "-c", TIMED_IMPORT, module],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(completed.stdout.strip().splitlines()[-1])


def _self_times(module: str, environment: dict[str, str]) -> dict[str, float]:
    """Seconds each module took to import itself (`python -X importtime`, self column)."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    times: dict[str, float] = {}
    for line in completed.stderr.splitlines():
        parts = [part.strip() for part in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[0].isdigit():
            times[parts[2]] = int(parts[0]) / 1e6
    return times


def top_extra_imports(module: str, bare_dir: str, count: int = 6) -> list[tuple[str, float]]:
    """The modules `module` imports that the bare handler does not, slowest first: what its extra time is made of."""
    environment = _environment(bare_dir)
    bare = _self_times(BARE_MODULE, environment)
    extra = {name: s for name, s in _self_times(module, environment).items() if name not in bare}
    return sorted(extra.items(), key=lambda item: item[1], reverse=True)[:count]


def measure(repeats: int) -> ColdImports:
    with tempfile.TemporaryDirectory() as bare_dir:
        (Path(bare_dir) / f"{BARE_MODULE}.py").write_text(BARE_HANDLER)
        environment = _environment(bare_dir)
        # Interleaved, so a busy moment of the machine weighs on both sides alike.
        samples: dict[str, list[float]] = {}
        for _ in range(repeats):
            for module in [BARE_MODULE, *handler_modules()]:
                samples.setdefault(module, []).append(import_seconds(module, environment))
        medians = {module: statistics.median(times) for module, times in samples.items()}
        bare = medians.pop(BARE_MODULE)
        worst = max(medians, key=lambda module: medians[module])
        return ColdImports(bare, medians, top_extra_imports(worst, bare_dir))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    result = measure(parser.parse_args().repeats)
    print(f"bare Powertools handler {result.bare_s * 1000:.0f} ms")
    for module, seconds in sorted(result.handlers_s.items(), key=lambda item: item[1], reverse=True):
        print(f"  {module:<32} {seconds * 1000:>5.0f} ms  x{seconds / result.bare_s:.2f}")
    print(f"ratio (worst / bare) {result.ratio:.2f}; slowest imports of {result.worst[0]} beyond the bare handler:")
    for name, seconds in result.worst_extra_imports:
        print(f"  {name:<40} {seconds * 1000:>5.0f} ms")


if __name__ == "__main__":
    main()

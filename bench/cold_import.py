"""Handler cold import time, measured where the handlers run: each functions/*/app.py imported in a fresh interpreter
of .venv-lambda (`make lambda-venv`: python3.13 holding only layers/shared/requirements.txt and the runtime's
boto3/botocore), against a bare Powertools handler (Logger, Tracer, Metrics and a handler) imported the same way in
the same run. The environment is Lambda's as template.yaml deploys it (Tracing Active: Tracer patches at import) and
nothing of the caller's; PYTHONPATH is the function code (the repo root, for functions.<name>.app) and the layer
(layers/shared, /opt/python in Lambda). Only the import is timed, not the interpreter's start; each module is imported
`repeats` times and its median kept.

The bare handler runs beside the layer, so its Tracer also patches httpx (~20 ms): a function without the layer would
not load it, and the ratio against such a function would be ~10% higher. The dev venv is not Lambda: dev tools
install packages the layer does not have (rich, click, pygments, which httpx loads for its CLI when present), and
without LAMBDA_TASK_ROOT X-Ray's sampler loads botocore in every handler. `--python .venv/bin/python` measures in the
dev venv (with Lambda's variables) as a side figure.

    python -m bench.cold_import [--repeats 5] [--python PATH]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "shared"
LAMBDA_PYTHON = ROOT / ".venv-lambda" / "bin" / "python"
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
DESCRIBE = (
    "import importlib.metadata as m, sys; names = sorted(d.metadata['Name'].lower() for d in m.distributions()); "
    "print(sys.version.split()[0], m.version('boto3') if 'boto3' in names else '-', *names)"
)
# What Lambda sets (LAMBDA_TASK_ROOT tells X-Ray it runs in Lambda: outside it, its sampler loads botocore) and what
# template.yaml's Globals set. Tracing is Active there, so Tracer is enabled and patches at import what X-Ray supports
# (botocore and httpx among them) in every handler, the bare one included; nothing is sent before an invocation.
LAMBDA_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "LAMBDA_TASK_ROOT": str(ROOT),
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "TZ": ":UTC",
    "TABLE_NAME": "bench",
    "POWERTOOLS_SERVICE_NAME": "shopsync",
    "POWERTOOLS_METRICS_NAMESPACE": "ShopSync",
    "LOG_LEVEL": "INFO",
}
# Dev-only packages whose presence would make the measurement unlike Lambda (see the module's docstring).
NOT_IN_LAMBDA = ("rich", "click", "pygments")
# Extra imports are summed per package; these are split further so the sum says which part of them is loaded.
PACKAGE_DEPTH = {"aws_lambda_powertools": 3, "shopsync": 2}


@dataclass(frozen=True)
class ColdImports:
    environment: str  # which interpreter and packages were measured
    bare_s: float
    handlers_s: dict[str, float]  # functions.<name>.app → seconds
    worst_extra_imports: list[tuple[str, float]]  # the slowest handler's imports beyond the bare one, slowest first
    worst_extra_packages: list[tuple[str, float]]  # the same summed per package, heaviest first

    @property
    def worst(self) -> tuple[str, float]:
        return max(self.handlers_s.items(), key=lambda item: item[1])

    @property
    def ratio(self) -> float:
        return self.worst[1] / self.bare_s


def handler_modules() -> list[str]:
    return sorted(f"functions.{app.parent.name}.app" for app in (ROOT / "functions").glob("*/app.py"))


def _environment(bare_dir: str) -> dict[str, str]:
    """Lambda's variables and path only: the function code, then the layer (the bare handler is function code)."""
    return {**LAMBDA_ENVIRONMENT, "PYTHONPATH": ":".join([bare_dir, str(ROOT), str(LAYER)])}


def _run(python: Path, arguments: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), *arguments], env=environment, cwd=ROOT, capture_output=True, text=True, check=True
    )


def describe(python: Path) -> str:
    """Which interpreter and packages: the figure's note says where it was measured."""
    version, boto3, *names = _run(python, ["-c", DESCRIBE], {}).stdout.split()
    try:
        where = str(python.relative_to(ROOT).parts[0])
    except ValueError:
        where = str(python)
    dev_only = [name for name in NOT_IN_LAMBDA if name in names]
    kind = f"dev-like (has {', '.join(dev_only)})" if dev_only else "Lambda-like"
    return f"{kind} {where}: Python {version}, {len(names)} distributions, boto3 {boto3}; PYTHONPATH code + layer"


def import_seconds(python: Path, module: str, environment: dict[str, str]) -> float:
    return float(_run(python, ["-c", TIMED_IMPORT, module], environment).stdout.strip().splitlines()[-1])


def _self_times(python: Path, module: str, environment: dict[str, str]) -> dict[str, float]:
    """Seconds each module took to import itself (`python -X importtime`, self column)."""
    times: dict[str, float] = {}
    for line in _run(python, ["-X", "importtime", "-c", f"import {module}"], environment).stderr.splitlines():
        parts = [part.strip() for part in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[0].isdigit():
            times[parts[2]] = int(parts[0]) / 1e6
    return times


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[: PACKAGE_DEPTH.get(parts[0], 1)])


def extra_imports(python: Path, module: str, environment: dict[str, str]) -> dict[str, float]:
    """The modules `module` imports that the bare handler does not, with their own import time."""
    bare = _self_times(python, BARE_MODULE, environment)
    return {name: s for name, s in _self_times(python, module, environment).items() if name not in bare}


def by_package(extra: dict[str, float]) -> list[tuple[str, float]]:
    totals: dict[str, float] = {}
    for name, seconds in extra.items():
        totals[_package(name)] = totals.get(_package(name), 0.0) + seconds
    return sorted(totals.items(), key=lambda item: item[1], reverse=True)


def measure(repeats: int, python: Path = LAMBDA_PYTHON) -> ColdImports:
    if not python.exists():
        raise SystemExit(f"{python} does not exist: `make lambda-venv` creates it (`make bench` does)")
    with tempfile.TemporaryDirectory() as bare_dir:
        (Path(bare_dir) / f"{BARE_MODULE}.py").write_text(BARE_HANDLER)
        environment = _environment(bare_dir)
        # Interleaved, so a busy moment of the machine weighs on both sides alike.
        samples: dict[str, list[float]] = {}
        for _ in range(repeats):
            for module in [BARE_MODULE, *handler_modules()]:
                samples.setdefault(module, []).append(import_seconds(python, module, environment))
        medians = {module: statistics.median(times) for module, times in samples.items()}
        bare = medians.pop(BARE_MODULE)
        worst = max(medians, key=lambda module: medians[module])
        extra = extra_imports(python, worst, environment)
        slowest = sorted(extra.items(), key=lambda item: item[1], reverse=True)
        return ColdImports(describe(python), bare, medians, slowest[:6], by_package(extra))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--python", type=Path, default=LAMBDA_PYTHON, help="interpreter to measure in")
    arguments = parser.parse_args()
    result = measure(arguments.repeats, arguments.python.absolute())
    print(f"measured in {result.environment}")
    print(f"bare Powertools handler {result.bare_s * 1000:.0f} ms")
    for module, seconds in sorted(result.handlers_s.items(), key=lambda item: item[1], reverse=True):
        print(f"  {module:<32} {seconds * 1000:>5.0f} ms  x{seconds / result.bare_s:.2f}")
    worst, worst_s = result.worst
    extra_s = sum(seconds for _, seconds in result.worst_extra_packages)
    print(
        f"ratio (worst / bare) {result.ratio:.2f}; {worst} imports {(worst_s - result.bare_s) * 1000:.0f} ms more "
        f"than the bare handler. Its imports beyond the bare handler (-X importtime self times, which overstate: "
        f"Σ {extra_s * 1000:.0f} ms), per package:"
    )
    for name, seconds in result.worst_extra_packages[:12]:
        print(f"  {name:<48} {seconds * 1000:>5.1f} ms")
    print("slowest single modules:")
    for name, seconds in result.worst_extra_imports:
        print(f"  {name:<48} {seconds * 1000:>5.1f} ms")


if __name__ == "__main__":
    main()

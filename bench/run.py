"""Start-up benchmark: each subject measured beside its floor in one run, interleaved, medians compared.

    uv run python bench/run.py [--repetitions 30] [--write bench/RESULTS.md]

(a) `temporal-dsql-runtime start` up to exec of a stub server
    vs  python -c "import pydantic_settings, jinja2, ruamel.yaml"   (target <= 1.25x)
(b) the credential command, cache hit  vs  python -c pass   (target <= 2x);
    cache miss (mints a DSQL token)  vs  python -c "import botocore.session"   (target <= 1.25x)
(c) 50 credential commands started at once on a cold cache: exactly one signing, all done in <= 3 s.

Tokens are signed locally with AWS's documented example keys; nothing leaves the machine.
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from results_file import write_section

from temporal_dsql_runtime.credential_command import password_command_for
from temporal_dsql_runtime.loading import load_settings

PYTHON = sys.executable
DSQL_HOST = "abcdefghijklmnopqrst.dsql.us-east-1.on.aws"
EXAMPLE_KEYS = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}
CONCURRENT_CALLERS = 50
CONCURRENT_LIMIT_SECONDS = 3.0
Argv = Callable[[], list[str]]


@dataclass(frozen=True)
class Comparison:
    """A subject's median wall time against its floor's, and the ratio allowed."""

    name: str
    subject: str
    floor: str
    subject_median: float
    floor_median: float
    target: float

    @property
    def ratio(self) -> float:
        return self.subject_median / self.floor_median

    @property
    def met(self) -> bool:
        return self.ratio <= self.target


@dataclass(frozen=True)
class PoolWarmUp:
    """Rounds of concurrent credential commands on a cold cache."""

    signings: list[int]
    seconds: list[float]

    @property
    def met(self) -> bool:
        return all(s == 1 for s in self.signings) and max(self.seconds) <= CONCURRENT_LIMIT_SECONDS


def run_checked(argv: Sequence[str], environment: dict[str, str]) -> float:
    """Wall seconds for one run; a failed run stops the benchmark with its stderr."""
    started = time.perf_counter()
    result = subprocess.run(argv, env=environment, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"benchmark run failed ({shlex.join(argv)}): {result.stderr.strip()}")
    return elapsed


def compare(
    name: str, subject: Argv, floor: Argv, target: float, environment: dict[str, str], repetitions: int
) -> Comparison:
    """Alternate subject and floor runs (order flipped each round) so drift on a shared machine hits both."""
    subject_times: list[float] = []
    floor_times: list[float] = []
    for argv in (subject, floor, subject, floor):  # warm the page cache for both
        run_checked(argv(), environment)
    for round_number in range(repetitions):
        pair = [(subject, subject_times), (floor, floor_times)]
        for argv, times in pair if round_number % 2 == 0 else reversed(pair):
            times.append(run_checked(argv(), environment))
    return Comparison(
        name,
        shlex.join(subject()),
        shlex.join(floor()),
        statistics.median(subject_times),
        statistics.median(floor_times),
        target,
    )


def pool_warm_up(token: list[str], workspace: Path, environment: dict[str, str], rounds: int) -> PoolWarmUp:
    """Start the callers together on an empty cache; count signings from the command's mint log."""
    signings, seconds = [], []
    for round_number in range(rounds):
        cache, log = workspace / f"warm-up-{round_number}", workspace / f"warm-up-{round_number}.log"
        argv = [*with_cache_dir(token, cache), "--mint-log", str(log)]
        started = time.perf_counter()
        callers = [
            subprocess.Popen(argv, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(CONCURRENT_CALLERS)
        ]
        outputs = {caller.communicate()[0] for caller in callers}
        seconds.append(time.perf_counter() - started)
        if any(caller.returncode for caller in callers) or len(outputs) != 1:
            sys.exit("pool warm-up: a caller failed or callers printed different tokens")
        signings.append(len(log.read_text().splitlines()))
    return PoolWarmUp(signings, seconds)


def with_cache_dir(token: list[str], cache_dir: Path) -> list[str]:
    """The credential command as rendered, pointed at another cache directory."""
    position = token.index("--cache-dir") + 1
    return [*token[:position], str(cache_dir), *token[position + 1 :]]


def report(comparisons: list[Comparison], warm_up: PoolWarmUp, command: str, repetitions: int) -> str:
    """The results as markdown: what ran, where, and each number against its target."""
    lines = [
        "# Benchmark results",
        "",
        f"Command: `{command}`  ",
        f"Measured: {time.strftime('%Y-%m-%d %H:%M %Z')} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; median wall time of {repetitions} runs each, subject and floor "
        "interleaved.",
        "",
        "| measurement | subject (median) | floor (median) | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in comparisons:
        lines.append(
            f"| {c.name} | {c.subject_median * 1000:.1f} ms | {c.floor_median * 1000:.1f} ms "
            f"| {c.ratio:.2f}x | <= {c.target:g}x | {'yes' if c.met else 'NO'} |"
        )
    lines += [
        "",
        f"{CONCURRENT_CALLERS} concurrent credential commands on a cold cache, "
        f"{len(warm_up.seconds)} rounds: signings per round {warm_up.signings} (target: exactly 1), "
        "all done in "
        f"{', '.join(f'{s:.2f}' for s in warm_up.seconds)} s (target: <= {CONCURRENT_LIMIT_SECONDS:g} s) — "
        f"{'met' if warm_up.met else 'NOT met'}.",
        "",
        "Subjects and floors:",
        "",
        *(f"- {c.name}: `{c.subject}` vs `{c.floor}`" for c in comparisons),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repetitions", type=int, default=30, help="Runs of each subject and floor.")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds of the concurrent warm-up.")
    parser.add_argument("--write", type=Path, help="Also write the report into this file's startup section.")
    parser.add_argument(
        "--executable", help="temporal-dsql-runtime to measure (default: the one the rendered config names)."
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tdr-bench-") as directory:
        text, met = measure(Path(directory), arguments)
    print(text)
    if arguments.write:
        write_section(arguments.write, "startup", text)
    return 0 if met else 1


def measure(workspace: Path, arguments: argparse.Namespace) -> tuple[str, bool]:
    """Run every comparison and the warm-up in `workspace`: the markdown report, and whether all held."""
    stub = workspace / "stub-server"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TEMPORAL_"))}
    environment |= EXAMPLE_KEYS | {
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(workspace / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(workspace / "no-aws-credentials"),
    }
    launcher_environment = environment | {
        "TEMPORAL_SQL_PLUGIN_NAME": "sqlite",
        "TEMPORAL_SERVER_BINARY": str(stub),
        "TEMPORAL_RUNTIME_DIR": str(workspace / "launcher"),
    }
    settings = load_settings(
        {
            "TEMPORAL_SQL_HOST": DSQL_HOST,
            "TEMPORAL_SQL_AUTH_METHOD": "iam",
            "TEMPORAL_OPENSEARCH_ENDPOINT": "https://search.example:443",
            "TEMPORAL_RUNTIME_DIR": str(workspace / "runtime"),
        }
    )
    rendered = password_command_for(settings)
    assert rendered is not None
    executable = arguments.executable or rendered.command
    token = [executable, *rendered.args]
    misses = iter(range(1_000_000))

    comparisons = [
        compare(
            "launcher start -> exec (stub server)",
            lambda: [executable, "start"],
            lambda: [PYTHON, "-c", "import pydantic_settings, jinja2, ruamel.yaml"],
            1.25,
            launcher_environment,
            arguments.repetitions,
        ),
        compare(
            "credential command, cache hit",
            lambda: token,
            lambda: [PYTHON, "-c", "pass"],
            2.0,
            environment,
            arguments.repetitions,
        ),
        compare(
            "credential command, cache miss (mints)",
            lambda: with_cache_dir(token, workspace / f"miss-{next(misses)}"),
            lambda: [PYTHON, "-c", "import botocore.session"],
            1.25,
            environment,
            arguments.repetitions,
        ),
    ]
    warm_up = pool_warm_up(token, workspace, environment, arguments.rounds)

    command = shlex.join(["uv", "run", "python", "bench/run.py", *sys.argv[1:]])
    text = report(comparisons, warm_up, command, arguments.repetitions)
    return text, all(c.met for c in comparisons) and warm_up.met


if __name__ == "__main__":
    sys.exit(main())

"""Time of `faxbot codegen`: in-process `generate_all` (first call, then the median of 5) and
the whole `faxbot codegen --check` process (median of 3), which adds interpreter start and
imports.

Prints figures; asserts nothing. Run: .venv/bin/python bench/codegen_bench.py [--only all]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from faxbot_codegen.generate import generate_all

REPO = Path(__file__).resolve().parent.parent


def time_in_process(only: set[str] | None, repeat: int) -> tuple[float, float, int]:
    """Seconds of the first call (builds and caches what later calls reuse), the median of
    `repeat` more, and the number of files produced."""
    start = time.perf_counter()
    outputs = generate_all(only)
    first = time.perf_counter() - start
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        generate_all(only)
        samples.append(time.perf_counter() - start)
    return first, statistics.median(samples), len(outputs.files)


def time_check_process(only: str | None, repeat: int) -> tuple[float, int]:
    """Median seconds of the whole `faxbot codegen --check` process, and its last exit code
    (1 when the committed outputs have drifted: still a valid timing)."""
    faxbot = str(Path(sys.executable).with_name("faxbot"))
    command = [faxbot, "codegen", "--check", *(["--only", only] if only else [])]
    samples, code = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        code = subprocess.run(command, cwd=REPO, capture_output=True, check=False).returncode
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="all", help="generators (comma-separated), or `all`")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--process-repeat", type=int, default=3)
    args = parser.parse_args()
    only = None if args.only == "all" else args.only
    chosen = None if only is None else set(only.split(","))

    first, median, files = time_in_process(chosen, args.repeat)
    process, code = time_check_process(only, args.process_repeat)
    label = only or "all generators"
    print(f"generate_all ({label}, {files} files), first call: {first * 1000:8.1f} ms")
    print(f"generate_all ({label}), median of {args.repeat}:      {median * 1000:8.1f} ms")
    print(
        f"faxbot codegen --check ({label}), whole process, median of {args.process_repeat}: "
        f"{process * 1000:.1f} ms  (exit {code}{', drift' if code == 1 else ''})"
    )


if __name__ == "__main__":
    main()

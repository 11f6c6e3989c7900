"""Compile time for 10 and 1,000 config.d fragments, and how cost grows.

Prints figures; asserts nothing (targets: 1,000 fragments under 2 s, per-fragment cost at
1,000 no more than that at 10, i.e. linear or better). Run: .venv/bin/python bench/compile_bench.py
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from faxbot.artifact import artifact_bytes
from faxbot.config.compiler import compile_config
from faxbot.plugins.discovery import PluginSource

BASE = """\
version: 1
profile: dev
appliance:
  listen: {host: 127.0.0.1, port: 8080}
providers:
  outbound:
    plugin: test
    version: 0.2.0
    settings:
      delay_seconds: 1
  storage:
    plugin: local
    version: 0.2.0
"""

FRAGMENT = """\
# fragment {i}: a team's drop-in
appliance:
  limits:
    max_pages: {pages}
    send_timeout_seconds: {timeout}
providers:
  outbound:
    settings:
      delay_seconds: {delay}
      fail_numbers: ["+1555{i:07d}", "+1666{i:07d}"]
"""


def write_fragments(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    (folder / "0000-base.yaml").write_text(BASE)
    for i in range(1, count):
        text = FRAGMENT.format(i=i, pages=1 + i % 100, timeout=60 + i % 600, delay=i % 10)
        (folder / f"{i:04d}-team.yaml").write_text(text)


def time_compile(folder: Path, repeat: int) -> float:
    source = PluginSource()
    compile_config(folder, source)  # warm: imports, plugin load, schema compile
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = compile_config(folder, source)
        assert result.artifact is not None, result.diagnostics[:3]
        artifact_bytes(result.artifact)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def time_cli(folder: Path, out: Path) -> float:
    faxbot = str(Path(sys.executable).with_name("faxbot"))
    start = time.perf_counter()
    subprocess.run(
        [faxbot, "config", "compile", "--dir", str(folder), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "small", Path(tmp) / "large"
        write_fragments(small, 10)
        write_fragments(large, 1000)
        t_small = time_compile(small, args.repeat)
        t_large = time_compile(large, args.repeat)
        cli_large = time_cli(large, Path(tmp) / "out.json")
    per_small, per_large = t_small / 10, t_large / 1000
    growth = per_large / per_small
    print(f"compile 10 fragments     : {t_small * 1000:8.1f} ms  (median of {args.repeat})")
    print(
        f"compile 1,000 fragments  : {t_large * 1000:8.1f} ms  (median of {args.repeat})"
        f"  target < 2000 ms: {'ok' if t_large < 2 else 'MISSED'}"
    )
    print(f"faxbot config compile CLI, 1,000 fragments, whole process: {cli_large * 1000:.1f} ms")
    print(f"ratio 1,000 / 10 fragments: {t_large / t_small:.1f}x  (100x would be exactly linear)")
    print(f"per fragment: {per_small * 1000:.3f} ms at 10, {per_large * 1000:.3f} ms at 1,000")
    print(
        f"growth ratio (per-fragment cost 1,000 / 10): {growth:.2f}"
        f"  target <= 1.0 (linear or better): {'ok' if growth <= 1.0 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()

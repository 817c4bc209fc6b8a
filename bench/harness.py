"""The benchmark harness: rounds in alternation, medians and spreads, targets, the results row.

Every scenario runs clmsync and its baselines in the same process, in turn, for several rounds;
the order rotates each round so none always runs first (warm caches) or last (a hot machine).
A figure is the median of its rounds with the lowest and highest round beside it; a ratio is the
ratio of two medians with the range of the per-round ratios beside it. The machine is shared and
noisy, so ratios measured side by side are the claim, not the seconds.

Each scenario appends one row to ``bench/RESULTS.md``: date, machine, Python, package versions,
the commit, parameters, figures, ratios and every target as ``target met`` / ``target missed``.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import platform
import statistics
import subprocess
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import IO, Literal

import duckdb

RESULTS = Path(__file__).with_name("RESULTS.md")
PACKAGES = ("clmsync", "duckdb", "pyarrow", "polars", "sqlglot", "prefect", "dlt")
COLUMNS = (
    "date (UTC)",
    "scenario",
    "machine",
    "Python",
    "versions",
    "commit",
    "parameters",
    "figures: median [min–max] of the rounds",
    "ratios: of medians [per-round range]",
    "targets",
)
PREAMBLE = """# Benchmark results

One row per scenario run, appended by `python -m bench SCENARIO` (or `make bench`). Every
scenario runs clmsync and its baselines in the same process, in turn (the order rotates each
round), and reports medians with the lowest and highest round. The machines are shared and
noisy: compare the ratios, measured side by side, rather than the seconds. `load` is the
1-minute load average before and after the scenario.

"""


def peer(name: str) -> ModuleType:
    """Import a peer the benchmarks compare against (the ``bench`` extra), or stop saying how
    to install it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise SystemExit(
            f"{name} is not installed: the benchmarks compare against it. "
            "Install the bench extra (pip install -e '.[bench]'), or run `make bench`."
        ) from exc


def check_and_remove(database: Path, table: str, expected: int) -> None:
    """Check that a baseline's or clmsync's ``table`` in ``database`` holds ``expected`` rows,
    then remove the database (a 1M-row one is ~300 MB): a run that loses rows is not timed."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    finally:
        con.close()
    database.unlink()
    if rows != expected:
        raise RuntimeError(f"{database.name}: {rows} rows in {table}, expected {expected}")


@dataclass(frozen=True)
class Stats:
    """The rounds of one figure (seconds unless ``unit`` says otherwise)."""

    samples: tuple[float, ...]
    unit: str = "s"

    def __post_init__(self) -> None:
        if not self.samples:
            raise ValueError("a figure needs at least one sample")

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)

    @property
    def spread(self) -> float:
        """(highest − lowest) / median: 0.1 means the rounds lie within 10% of the median."""
        median = self.median
        return (self.high - self.low) / median if median else 0.0

    def scaled(self, factor: float) -> Stats:
        return Stats(tuple(s * factor for s in self.samples), self.unit)

    def text(self) -> str:
        if len(self.samples) == 1:
            return f"{number(self.median)} {self.unit} (1 round)"
        return (
            f"{number(self.median)} {self.unit} [{number(self.low)}–{number(self.high)}, "
            f"{len(self.samples)} rounds]"
        )


@dataclass(frozen=True)
class Ratio:
    """``numerator`` / ``denominator`` of two figures' medians, with the per-round range."""

    name: str
    value: float
    low: float
    high: float

    def text(self) -> str:
        if self.low == self.high:
            return f"{self.name} {self.value:.2f}×"
        return f"{self.name} {self.value:.2f}× [{self.low:.2f}–{self.high:.2f}]"


def ratio(name: str, numerator: Stats, denominator: Stats) -> Ratio:
    """The ratio of medians, and the range of the round-by-round ratios (paired by round)."""
    if denominator.median == 0:
        raise ValueError(f"ratio {name}: the denominator's median is zero")
    pairs = [n / d for n, d in zip(numerator.samples, denominator.samples, strict=False) if d != 0]
    value = numerator.median / denominator.median
    return Ratio(name, value, min(pairs, default=value), max(pairs, default=value))


@dataclass(frozen=True)
class Target:
    """A stated goal: ``value`` compared with ``limit`` by ``op``."""

    label: str
    value: float
    op: Literal[">=", "<=", "<"]
    limit: float

    @property
    def met(self) -> bool:
        if self.op == ">=":
            return self.value >= self.limit
        if self.op == "<=":
            return self.value <= self.limit
        return self.value < self.limit

    def text(self) -> str:
        verdict = "target met" if self.met else "target missed"
        return (
            f"{self.label} {number(self.value)} (target {self.op} {number(self.limit)}): {verdict}"
        )


@dataclass
class Result:
    """What one scenario run reports: the row it appends, and lines for the terminal."""

    scenario: str
    parameters: dict[str, object]
    figures: dict[str, Stats]
    ratios: list[Ratio] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def all_met(self) -> bool:
        return all(t.met for t in self.targets)


def run_rounds(
    contenders: Mapping[str, Callable[[], object]], rounds: int, *, warmup: int = 0
) -> dict[str, Stats]:
    """Time each contender ``rounds`` times, alternating, rotating the order every round.

    ``warmup`` untimed rounds come first. A contender may return a float: that figure is its
    time (for contenders that time only part of what they do, e.g. without their set-up).
    """
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(warmup + rounds):
        shift = index % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            gc.collect()
            started = time.perf_counter()
            returned = contenders[name]()
            elapsed = time.perf_counter() - started
            if index >= warmup:
                timed = float(returned) if isinstance(returned, int | float) else elapsed
                samples[name].append(timed)
    return {name: Stats(tuple(values)) for name, values in samples.items()}


@dataclass(frozen=True)
class ChildRun:
    """A child process measured from outside: wall seconds, its peak RSS (bytes, as last
    sampled), exit code, and its resident memory along the way (seconds since the start,
    bytes)."""

    seconds: float
    peak_rss_bytes: int
    returncode: int
    samples: tuple[tuple[float, int], ...] = ()

    def peak_sample(self) -> tuple[float, int] | None:
        """The sample with the most resident memory (None without samples)."""
        return max(self.samples, key=lambda s: s[1], default=None)


def run_child(
    command: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdout: IO[bytes] | None = None,
    stderr: IO[bytes] | None = None,
    sample_seconds: float = 0.5,
) -> ChildRun:
    """Run ``command`` to its end, sampling its ``VmRSS`` and ``VmHWM`` every
    ``sample_seconds``. Its peak is the last ``VmHWM`` read: the kernel's high-water mark of the
    program's own memory, from its exec on. Not ``wait4``'s ``ru_maxrss``: that keeps the
    high-water mark of the memory the child had before its exec, i.e. this process's (a
    benchmark that generated a 1M-vendor world first would read as 7 GB)."""
    started = time.perf_counter()
    child = subprocess.Popen(list(command), cwd=cwd, env=env, stdout=stdout, stderr=stderr)
    samples: list[tuple[float, int]] = []
    high = [0]
    done = threading.Event()

    def read() -> None:
        fields: dict[str, int] = {}
        with _suppress_os():
            for line in Path(f"/proc/{child.pid}/status").read_text().splitlines():
                name, _, rest = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    fields[name] = int(rest.split()[0]) * 1024
        if "VmRSS" in fields:
            samples.append((time.perf_counter() - started, fields["VmRSS"]))
        high[0] = max(high[0], fields.get("VmHWM", 0))

    def sample() -> None:
        read()
        while not done.wait(sample_seconds):
            read()

    sampler = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    sampler.start()
    # An exited child has no memory figures left: the last sample is at most sample_seconds old.
    status = os.waitpid(child.pid, 0)[1]
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(seconds, high[0], child.returncode, tuple(samples))


def versions(packages: Iterable[str] = PACKAGES) -> str:
    """``name version`` of each package; clmsync from its pyproject when run from a checkout."""
    found = []
    for name in packages:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} {_project_version() if name == 'clmsync' else '-'}")
    return ", ".join(found)


def _project_version() -> str:
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    with contextlib.suppress(OSError, tomllib.TOMLDecodeError, KeyError):
        return str(tomllib.loads(pyproject.read_text())["project"]["version"])
    return "-"


def machine() -> str:
    """OS, architecture, CPU model, cores and memory: enough to tell two machines apart."""
    cpu = platform.processor() or platform.machine()
    with _suppress_os():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with _suppress_os():
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages * size / 2**30:.0f} GiB"
    return f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores{memory}"


def load_average() -> str:
    with _suppress_os():
        return f"{os.getloadavg()[0]:.1f}"
    return "-"


def commit(repo: Path | None = None) -> str:
    """The checked-out commit (short), ``+changes`` when the tree differs from it (rows
    appended to the results file are not a change of the code measured)."""
    where = repo or Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no", "--",
             ".", f":(exclude)*{RESULTS.name}"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "-"
    return f"{head}+changes" if dirty else head


def format_row(
    result: Result,
    *,
    when: datetime | None = None,
    machine_text: str | None = None,
    python: str | None = None,
    versions_text: str | None = None,
    commit_text: str | None = None,
) -> str:
    """One Markdown table row, one cell per :data:`COLUMNS` entry."""
    moment = (when or datetime.now(UTC)).astimezone(UTC)
    params = "; ".join(f"{k} {_value(v)}" for k, v in result.parameters.items())
    figures = "; ".join(f"{name} {stats.text()}" for name, stats in result.figures.items())
    notes = "".join(f"; {n}" for n in result.notes)
    cells = [
        moment.strftime("%Y-%m-%d %H:%M"),
        result.scenario,
        machine_text if machine_text is not None else machine(),
        python if python is not None else platform.python_version(),
        versions_text if versions_text is not None else versions(),
        commit_text if commit_text is not None else commit(),
        params,
        figures + notes,
        "; ".join(r.text() for r in result.ratios) or "-",
        "; ".join(t.text() for t in result.targets) or "-",
    ]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def header() -> str:
    return "| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS) + "\n"


def append_row(row: str, path: Path = RESULTS) -> None:
    """Append ``row`` to the results table, writing the preamble and header on first use."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if header().splitlines()[0] not in text:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else PREAMBLE) + header()
    elif not text.endswith("\n"):
        text += "\n"
    path.write_text(text + row + "\n", encoding="utf-8")


def report_lines(result: Result) -> list[str]:
    """The result as terminal lines."""
    lines = [f"== {result.scenario}"]
    lines += [f"  {name}: {stats.text()}" for name, stats in result.figures.items()]
    lines += [f"  {r.text()}" for r in result.ratios]
    lines += [f"  {t.text()}" for t in result.targets]
    lines += [f"  note: {n}" for n in result.notes]
    return lines


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def _value(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def number(value: float) -> str:
    """A figure with three significant digits or so, thousands grouped above 100."""
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _suppress_os() -> contextlib.suppress:
    return contextlib.suppress(OSError, ValueError)

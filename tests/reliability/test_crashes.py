"""Crash and resume: ``clmsync run`` killed with SIGKILL at 20 seeded moments across extract,
build, push and publish; every crash is followed by a rerun, and the run that finally ends
leaves the same reports and SCM/CLM data as the uninterrupted run, with no record created twice.

Moments are drawn (seed below) from a profile of the uninterrupted run: how many times it calls
each hooked function (see :mod:`crashkit`). A crash is cheap to cause but the run that checks it
is a whole run, so crashes come in chains: each chain starts from the bed's saved point and
kills run after run, each at the next moment of :data:`CHAIN` (extract, build, push, publish,
and again), so every rerun resumes what the crashed one left. A run that ends before its moment
comes (a rerun that has less left to push than the uninterrupted run had) ends the chain.

After every crash no natural key may be held twice in SCM. At the end of a chain SCM and the
CLM must equal the reference's, and the reports must be the reference's (or, when a crashed
push had applied part of its plan, which the rerun then finds applied in SCM, the ones the run
after the reference shows, after one more run); no half-written file may be left behind.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

from tests.reliability import crashkit
from tests.reliability.crashkit import Moment
from tests.reliability.harness import Bed, changed_rows, differences, natural_key_repeats, run
from tests.reliability.tally import TALLY

SEED = 20261126
CRASHES = 20
MAX_CHAINS = 6
# One chain's moments, in run order: the hooks each may be drawn from.
EXTRACT = ("export", "download", "land", "refresh")
CHAIN: list[tuple[str, ...]] = [
    EXTRACT,
    ("export", "download"),
    ("model",),
    ("batch", "ledger", "feed"),
    EXTRACT,
    ("model",),
    ("batch", "ledger"),
    ("publish",),
    ("model",),
    ("publish",),
]


def draw(profile: Counter[str], rng: random.Random, hooks: tuple[str, ...]) -> Moment:
    """A moment of one of ``hooks`` that the profile saw called: one of its calls, before or
    after it."""
    hook = rng.choice([h for h in hooks if profile[h]])
    return Moment(hook, rng.randint(1, profile[hook]), rng.choice(["before", "after"]))


def test_twenty_crashes_and_the_reruns_end_as_the_uninterrupted_run(
    bed: Bed, tmp_path: Path
) -> None:
    assert set(bed.profile) == set(crashkit.HOOKS), bed.profile  # every hook is on the path
    rng = random.Random(SEED)
    config = crashkit.write_config(bed.settings, tmp_path / "clmsync.toml")
    log = tmp_path / "runs.log"
    crashes: list[str] = []
    began = time.perf_counter()
    for chain in range(MAX_CHAINS):
        if len(crashes) >= CRASHES:
            break
        bed.restore()
        for hooks in CHAIN:
            moment = draw(bed.profile, rng, hooks)
            code = crashkit.spawn_run(config, moment, log)
            assert code in (-9, 0), f"chain {chain}, {moment}: exit {code}; see {log}"
            assert not any(natural_key_repeats(bed.store).values()), (chain, moment)
            if code == 0:  # the run ended before the moment came
                break
            crashes.append(f"{chain}: {moment}")
        else:
            assert crashkit.spawn_run(config, None, log) == 0, f"chain {chain}: rerun; see {log}"
        assert_ends_as_uninterrupted(bed, chain, [c for c in crashes if c.startswith(f"{chain}:")])
    phases = [crashkit.HOOKS[c.split()[2]][2] for c in crashes]
    TALLY.crashes.update(phases)
    TALLY.crash_seconds += time.perf_counter() - began
    assert len(crashes) >= CRASHES, crashes
    assert set(phases) == {"extract", "build", "push", "publish"}, crashes


def assert_ends_as_uninterrupted(bed: Bed, chain: int, moments: list[str]) -> None:
    where = f"chain {chain} ({', '.join(m.split(': ', 1)[1] for m in moments)})"
    found = differences(bed.sums(), bed.reference)
    emulator = {k for k in found if not k.startswith(("reports.", "marts."))}
    assert not emulator, f"{where}: SCM or the CLM differs: " + str(
        {name: changed_rows(bed.store, name) for name in emulator}
    )
    want = bed.reference
    if found:  # a crashed push applied part of its plan: the rerun's reports show it applied
        settle = run(bed.settings)
        assert settle.status == "succeeded", settle.error
        want = bed.settled
        found = differences(bed.sums(), want)
        assert not found, f"{where}: differs from the run after the reference: {found}"
    seen = bed.sums()["warehouse"]["history_ids"]
    assert want["warehouse"]["history_ids"] <= seen, f"{where}: history rows lost"
    leftovers = [
        str(p.relative_to(bed.warehouse.parent))
        for p in bed.warehouse.parent.rglob("*")
        if p.is_file() and p.name not in ("warehouse.duckdb", "analytics.duckdb")
    ]
    assert not leftovers, f"{where}: files left behind: {leftovers}"

"""What the reliability suite tried, counted as it runs, printed at the end of the session.

The README's reliability figures come from this summary: bad inputs tried (and how many of their
rows were quarantined), faults injected, crashes survived, and rows lost (a lost row fails its
test, so the figure printed is what the tests measured, not a claim).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Tally:
    bad_inputs: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)
    rows_in: int = 0
    quarantined: int = 0
    faults: set[str] = field(default_factory=set)
    crashes: Counter[str] = field(default_factory=Counter)  # phase of the run → crashes survived
    crash_seconds: float = 0.0
    rows_lost: int = 0

    def bad_input(self, name: str, *, rows: int = 0, quarantined: int = 0,
                  refused: bool = False) -> None:  # fmt: skip
        self.bad_inputs.add(name)
        if refused:
            self.refused.add(name)
        self.rows_in += rows
        self.quarantined += quarantined

    def lines(self) -> list[str]:
        return [
            f"bad inputs tried: {len(self.bad_inputs)} ({len(self.refused)} refused as a whole, "
            f"{self.rows_in} rows judged one by one, {self.quarantined} quarantined)",
            f"faults tried: {len(self.faults)} ({', '.join(sorted(self.faults))})",
            f"crashes survived: {self.crashes.total()} ("
            + "".join(f"{phase} {n}, " for phase, n in self.crashes.items())
            + f"crash loop: {self.crash_seconds:.0f} s)",
            f"rows lost: {self.rows_lost}",
        ]


TALLY = Tally()

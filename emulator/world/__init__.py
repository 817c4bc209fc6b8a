"""The synthetic world: a consistent SCM + CLM tenant with planted discrepancies.

``generate(size, seed, out_dir)`` writes a world (see ``writer`` for the layout);
``clm_store.load(con, world_dir)`` loads its CLM side into the emulator's store;
``mutate(store, fraction, seed)`` changes a loaded world for an incremental run and writes the
next ground truth.
"""

from __future__ import annotations

from emulator.world.generate import WorldSummary, generate
from emulator.world.mutation import mutate
from emulator.world.rates import DEFAULT_RATES

__all__ = ["DEFAULT_RATES", "WorldSummary", "generate", "mutate"]

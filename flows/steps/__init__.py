"""The steps of a run as plain Python functions (no Prefect): usable from a shell, from tests and
from the thin Prefect flows in ``flows/``. Each composes connectors and the warehouse and returns
a typed result."""

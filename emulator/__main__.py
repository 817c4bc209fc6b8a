"""``python -m emulator serve --state-dir DIR [--port P] [--size N --seed S] ...``"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from emulator.server import EmulatorInfo, serve


def _faults(values: list[str], files: list[str]) -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = []
    for text in values:
        specs.append(json.loads(text))
    for name in files:
        loaded = json.loads(Path(name).read_text())
        specs.extend(loaded if isinstance(loaded, list) else [loaded])
    return specs


def _announce(info: EmulatorInfo) -> None:
    print(f"SCM        {info.scm_url}")
    print(f"Entra ID   {info.authority}")
    print(f"CLM API    {info.clm_url}")
    print(f"CA         {info.ca_cert}")
    print(f"settings   {info.state_dir / 'clmsync.toml'}")
    print(f"details    {info.state_dir / 'emulator.json'}")
    print("Press Ctrl+C to stop.", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the SCM + Entra ID + CLM emulator over HTTPS")
    run.add_argument("--state-dir", type=Path, required=True)
    run.add_argument("--port", type=int, default=0, help="0 picks a free port")
    run.add_argument("--size", type=int, help="generate a world of this size")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--world-dir", type=Path, help="load an already generated world")
    run.add_argument("--page-size", type=int, default=10_000)
    run.add_argument("--token-lifetime", type=int, default=3600)
    run.add_argument("--execution-seconds", type=float, default=1.0, help="fixed execution time")
    run.add_argument("--fault", action="append", default=[], help="a fault rule as JSON")
    run.add_argument("--faults-file", action="append", default=[], help="JSON file of rules")
    args = parser.parse_args(argv)
    try:
        faults = _faults(args.fault, args.faults_file)
    except (OSError, ValueError) as exc:
        print(f"error: bad fault rule: {exc}", file=sys.stderr)
        return 2
    serve(
        args.state_dir,
        size=args.size,
        seed=args.seed,
        port=args.port,
        world_dir=args.world_dir,
        faults=faults,
        on_ready=_announce,
        page_size=args.page_size,
        token_lifetime=args.token_lifetime,
        execution_fixed_seconds=args.execution_seconds,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

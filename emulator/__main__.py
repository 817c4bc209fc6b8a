"""``python -m emulator serve --state-dir DIR [--port P] [--size N --seed S] ...``

The same commands as ``clmsync emulator ...`` (one definition, in flows/commands/emulator.py).
"""

from __future__ import annotations

from flows.commands.emulator import app

if __name__ == "__main__":
    app(prog_name="python -m emulator")

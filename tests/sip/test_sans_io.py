"""The SIP stack stays sans-IO (DESIGN.md): importing all of it brings in no event loop, socket or database."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("asyncio", "socket", "sqlalchemy", "uvloop", "tonalite.store", "tonalite.config", "tonalite.net")

PROBE = f"""
import importlib, pkgutil, sys
import tonalite.sip as package
for module in pkgutil.iter_modules(package.__path__):
    importlib.import_module("tonalite.sip." + module.name)
print(",".join(name for name in {FORBIDDEN!r} if name in sys.modules))
"""


def test_importing_the_sip_package_pulls_in_no_io() -> None:
    # A fresh interpreter: this test process has long imported everything.
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == ""

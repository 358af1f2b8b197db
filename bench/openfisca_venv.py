"""The separate virtualenv for OpenFisca-Japan (``bench/.venv-openfisca``, git-ignored): its pins (OpenFisca-Core 41,
NumPy 1.x) never touch the project's venv. Created on first use by ``resident_tax.py``, or by hand:

    ../.venv/bin/python openfisca_venv.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

VENV = Path(__file__).resolve().parent / ".venv-openfisca"
PACKAGES = (
    "openfisca-japan==2.2.0",  # the latest release (OpenFisca-Core >=41,<42, which pins NumPy 1.24)
    "pyarrow>=15,<19",  # to read the households from Parquet; 19+ needs NumPy 2
)


def python() -> Path:
    return VENV / "bin" / "python"


def ensure() -> Path:
    """The venv's interpreter, creating the venv and installing OpenFisca-Japan first if it is not there."""
    if not python().exists():
        print(f"creating {VENV} ({', '.join(PACKAGES)})", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)  # noqa: S603
        pip = [str(python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *PACKAGES], check=True)  # noqa: S603
    return python()


def versions() -> str:
    """``OpenFisca-Japan x.y.z, OpenFisca-Core x.y.z, NumPy x.y.z`` as installed in the venv."""
    script = (
        "from importlib.metadata import version as v; "
        "print(f\"OpenFisca-Japan {v('openfisca-japan')}, OpenFisca-Core {v('openfisca-core')}, NumPy {v('numpy')}\")"
    )
    done = subprocess.run([str(ensure()), "-c", script], check=True, capture_output=True, text=True)  # noqa: S603
    return done.stdout.strip()


if __name__ == "__main__":
    ensure()
    print(versions())

"""Python code run in a fresh interpreter that imports the qbench under test (not an installed one)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import qbench

#: The folder that holds the qbench package these tests import.
ROOT = Path(qbench.__file__).resolve().parent.parent


def run_python(code: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run ``python -c code`` with this qbench first on ``sys.path``; raises if it exits non-zero.

    Returns
    -------
    subprocess.CompletedProcess
        With ``stdout`` and ``stderr`` as text.
    """
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
    )
    if done.returncode != 0:
        raise AssertionError(f"python -c exited {done.returncode}:\n{done.stderr[-4000:]}")
    return done

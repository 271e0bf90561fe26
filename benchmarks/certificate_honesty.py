"""Are the certificates of every shipped run honest? Count the ``ok`` states that are not.

For every run under ``results/`` (or the runs given), every state that reads ``ok`` must:

* carry a certificate (a non-empty ``verified_by``): a run recorded before certificates fails
  this, because its ``ok`` was the solver's own word;
* have the exact level inside its interval, ``bound_lo <= energy_ref <= bound_hi`` (for a
  ``certified`` reference, the interval must overlap the reference's own, ``energy_ref`` +-
  ``reference_rel_bound``);
* have a true relative energy error within its ``tolerance``.

Prints the counts per run and the violations, and exits 1 if there is any (0 otherwise)::

    python benchmarks/certificate_honesty.py                  # every run under results/
    python benchmarks/certificate_honesty.py results/baseline RUN_DIR ...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shipped_runs(root: Path = ROOT / "results") -> list[Path]:
    """Every stored run under ``root``: a folder with a ``provenance.json`` beside its tables."""
    return sorted(p.parent for p in root.glob("*/provenance.json"))


def audit(results) -> dict[str, object]:
    """Counts and violations of one run's results table (a pandas DataFrame)."""
    import numpy as np

    ok = results[results["status"] == "ok"]
    missing = ok["verified_by"].fillna("").eq("") if "verified_by" in ok else np.ones(len(ok), bool)
    lo = ok.get("bound_lo")
    hi = ok.get("bound_hi")
    violations = []
    if lo is not None and hi is not None:
        slack = (ok["energy_ref"].abs() * ok["reference_rel_bound"].fillna(0.0)).to_numpy()
        exact = ok["energy_ref"].to_numpy()
        outside = ~((lo.to_numpy() <= exact + slack) & (exact - slack <= hi.to_numpy()))
        above = ~(ok["rel_error"].to_numpy() <= ok["tolerance"].to_numpy())
        for (_, row), miss, out, high in zip(ok.iterrows(), np.asarray(missing), outside, above):
            where = f"{row['problem']} / {row['solver']} seed={row['seed']} state {row['state']}"
            if miss:
                continue
            if out:
                violations.append(
                    f"{where}: exact {row['energy_ref']!r} outside [{row['bound_lo']!r}, {row['bound_hi']!r}]"
                )
            if high:
                violations.append(f"{where}: rel_error {row['rel_error']:.2e} > tolerance {row['tolerance']}")
    return {
        "states": len(results),
        "ok": len(ok),
        "uncertified_ok": int(np.sum(missing)),
        "violations": violations,
        "by_status": results["status"].value_counts().to_dict(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="*", type=Path, help="run folders (default: every run under results/)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from qbench import store

    runs = args.runs or shipped_runs()
    bad = 0
    for run in runs:
        report = audit(store.load(run).results)
        print(
            f"{run}: {report['states']} states, {report['ok']} ok, "
            f"{report['uncertified_ok']} ok without a certificate, {len(report['violations'])} violations; "
            f"statuses {report['by_status']}"
        )
        for line in report["violations"]:
            print(f"  {line}")
        bad += len(report["violations"]) + int(report["uncertified_ok"])
    print(f"total: {bad} ok states that are uncertified or violate their certificate")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())

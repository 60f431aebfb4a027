"""`darkportal export RESULT --format getdist|anesthetic|csv [--out DIR]`: a run's samples for other tools.

Without --out the files go to RESULT/export/FORMAT/ (a new folder inside the run; nothing the run wrote is
changed).  The formats are described in inference/output/export.py and in the README; the files are named after
the run (--root to change that).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from inference.output.export import FORMATS, export_run
from inference.output.results import read_results

LOADERS = {
    "getdist": 'from getdist import loadMCSamples; samples = loadMCSamples("{root}")',
    "anesthetic": 'from anesthetic import read_chains; samples = read_chains("{root}")',
    "csv": 'import pandas; samples = pandas.read_csv("{root}.csv")',
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="darkportal export", description=__doc__.split("\n\n")[0])
    p.add_argument("run", metavar="RESULT", type=Path, help="results folder of a finished run")
    p.add_argument("--format", required=True, choices=FORMATS, help="getdist, anesthetic or csv")
    p.add_argument("--out", type=Path, default=None, help="output folder (default RESULT/export/FORMAT)")
    p.add_argument("--root", default=None, help="file-name root (default: the run's name)")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    res = read_results(args.run)
    out = args.out if args.out is not None else args.run / "export" / args.format
    root = args.root or str(res.config.get("name") or args.run.name)
    paths = export_run(res, args.format, out, root)
    print(f"{args.run}: {len(paths)} files in {out}: {', '.join(p.name for p in paths)}")
    print("load with: " + LOADERS[args.format].format(root=out / root))
    return 0

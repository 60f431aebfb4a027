"""`darkportal report RUN [RUN ...]`: RUN/report.html for each run, self-contained (opens without a server).

Figures and tables come from `darkportal plot`; they are made first when a run has none (or with
--replot).  With several runs, each report also compares its run with the others (ln Z, ln B and the
Jeffreys-scale words from `inference.compare`, and a Savage-Dickey cross-check against the second run).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from inference.cmd_plot import make_plots
from inference.report import figures_in, write_report

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="darkportal report", description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", metavar="RUN", help="results folder(s) of finished runs")
    p.add_argument("--replot", action="store_true", help="redraw the figures even if they exist")
    p.add_argument("--data", default=None, help="measurement set drawn in Fig. 3 (default: the first run's)")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    dirs = [Path(r) for r in args.runs]
    if args.replot or any("corner" not in figures_in(d) or "fig3" not in figures_in(d) for d in dirs):
        log.info("drawing the figures first (darkportal plot)")
        make_plots(dirs, args.data)
    for i, d in enumerate(dirs):
        others = [o for j, o in enumerate(dirs) if j != i]
        path = write_report(d, others)
        print(f"{d}: report written to {path} (open it in a browser)")
    return 0

"""`darkportal report RUN [RUN ...] [--out DIR]`: one self-contained HTML page (opens without a server).

Where it goes: as for `darkportal plot`, with one RUN and no --out into RUN/report.html (and RUN/figures);
several RUNs need --out DIR, which gets DIR/report.html comparing them (ln Z, ln B, the Savage-Dickey
cross-check) with the overlaid figures and one section per run.  No input folder is changed then.
The figures are drawn first when the output folder has none (or with --replot).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from inference.cli.plot import make_plots, output_folder
from inference.output.report import figures_in, write_report

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="darkportal report", description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", metavar="RUN", help="results folder(s) of finished runs")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: the run's own folder for one RUN; required for several)")
    p.add_argument("--replot", action="store_true", help="redraw the figures even if they exist")
    p.add_argument("--data", default=None, help="measurement set drawn in Fig. 3 (default: the first run's)")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    dirs = [Path(r) for r in args.runs]
    out = output_folder(dirs, args.out, "report")
    have = figures_in(out)
    if args.replot or "corner" not in have or "fig3" not in have:
        log.info("drawing the figures first (darkportal plot)")
        make_plots(dirs, args.data, out=out)
    path = write_report(dirs, out)
    print(f"report written to {path} (open it in a browser)")
    return 0

"""``darkportal validate FILE [FILE ...]``: check run files without running them.

Prints one summary line per valid file and the one error message of each invalid file (no traceback
unless ``--debug``). Exit status 0 when every file is valid, 1 otherwise, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

from inference.config.strict_yaml import read_yaml
from inference.errors import RunConfigError

if TYPE_CHECKING:
    from inference.config.runfile import RunConfig

log = logging.getLogger(__name__)


def summary(config: RunConfig) -> str:
    """One line describing a valid run: free and fixed parameters, likelihood, sampler, output."""
    fixed = ", ".join(f"{k} = {v:g}" for k, v in config.priors.fixed.items())
    lik = config.likelihood
    mode = lik.mode + (f" (softening {lik.softening:g})" if lik.mode == "cuts" and lik.softening else "")
    return (f"{config.source}: OK: run {config.name!r}, {config.priors.ndim} free parameters "
            f"({', '.join(config.priors.names)})" + (f", fixed {fixed}" if fixed else "")
            + f"; data {lik.data!r}, {mode} mode" + _measurements_note(config)
            + f"; scenario {config.theory.scenario!r}; "
            f"sampler {config.sampler.name}; output {config.output}")


def _measurements_note(config: RunConfig) -> str:
    m = config.likelihood.measurements
    if m is None:
        return ""
    parts = [f"replaces {', '.join(m.replaced)}" if m.replaced else "", f"adds {', '.join(m.added)}" if m.added else ""]
    return f", measurements from {m.file} ({'; '.join(p for p in parts if p)})"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="darkportal validate",
                                     description="Check run files (schema, units, physical domain) "
                                                 "without running them.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="run files, such as runs/kappa_zero.yaml")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    debug = args.debug or logging.getLogger().isEnabledFor(logging.DEBUG)
    status = 0
    for file in args.files:
        try:
            read_yaml(file)  # a hostile file is refused before the physics is imported
            from inference.config.runfile import validate_run_config

            config = validate_run_config(file)
        except RunConfigError as exc:
            if debug:
                log.exception("validation of %s failed", file)
            print(f"darkportal validate: {exc}", file=sys.stderr)
            status = 1
            continue
        print(summary(config))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The ``darkportal`` command: a thin dispatcher to one module per subcommand (the modules of this package).

Library errors reach the user as one readable line (no traceback) unless ``--debug`` is given.
"""

from __future__ import annotations

import importlib
import logging
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("inference.cli.run", "sample a run file: darkportal run runs/NAME.yaml [--resume] [--pool ...]"),
    "merge": ("inference.cli.merge", "merge the parts of a run made with darkportal run RUN.yaml --rank I --nranks N"),
    "validate": ("inference.cli.validate", "check a run file without running it"),
    "predict": ("inference.cli.predict", "every observable and constraint at one parameter point"),
    "compare": ("inference.analysis.compare", "evidences and Bayes factor of two runs"),
    "compare-posteriors": ("inference.analysis.posterior_compare",
                           "do two runs' posteriors agree (quantiles, in probability)"),
    "plot": ("inference.cli.plot", "corner plot and the paper's figures for finished runs"),
    "report": ("inference.cli.report", "one self-contained HTML page per run"),
    "export": ("inference.cli.export", "a run's samples for GetDist, anesthetic or as CSV"),
    "fit": ("inference.cli.fit", "maximum-likelihood point, chi^2 with pulls and the SM-only chi^2"),
    "reweight": ("inference.cli.reweight", "a finished run reweighted to a changed prior or likelihood"),
    "sensitivity": ("inference.cli.sensitivity", "ln B of two runs under prior and likelihood variants"),
    "profile": ("inference.cli.profile", "profile likelihoods: 1-D per parameter, 2-D for the Fig. 2 pairs"),
    "islands": ("inference.cli.islands", "separate islands of a run's posterior: weight, best point, observables"),
}

USAGE = "usage: darkportal [--debug] COMMAND [ARGS]\n       darkportal --version\n\ncommands:\n" + "\n".join(
    f"  {name:<18} {text}" for name, (_, text) in COMMANDS.items()
) + "\n\nRun 'darkportal COMMAND --help' for the options of one command."


def version_text() -> str:
    """``darkportal X.Y.Z (Python A.B.C)``: the installed package's version, as pip records it."""
    from importlib import metadata

    try:
        version = metadata.version("darkportal")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        version = "unknown (not installed; run 'make venv')"
    return f"darkportal {version} (Python {sys.version.split()[0]})"


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["--version"], ["-V"]):
        print(version_text())
        return 0
    debug = "--debug" in args
    if debug:
        args.remove("--debug")
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, format="%(message)s")
    if not debug:  # third-party chatter (ArviZ announces its backends at INFO)
        for noisy in ("arviz", "arviz_base", "arviz_stats", "arviz_plots", "matplotlib", "h5py"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    if not args or args[0] in {"-h", "--help"}:
        print(USAGE)
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        from physics.errors import closest

        hint = closest(name, COMMANDS)
        print(f"darkportal: unknown command {name!r}" + (f"; did you mean {hint!r}?" if hint else ""),
              file=sys.stderr)
        print(USAGE, file=sys.stderr)
        return 2
    from inference.errors import DarkportalError
    from inference.samplers.interrupt import RunInterrupted

    try:
        module = importlib.import_module(COMMANDS[name][0])  # inside: Ctrl-C while importing is no traceback
        return int(module.main(rest) or 0)
    except BrokenPipeError:  # the reader went away (`darkportal predict ... | head`): stop quietly, as Unix tools do
        _silence_stdout()
        return 141  # 128 + SIGPIPE, the status a shell reports for a tool stopped by a closed pipe
    except KeyboardInterrupt:
        print(f"darkportal {name}: interrupted; a run can be continued with --resume", file=sys.stderr)
        return 130
    except RunInterrupted as exc:
        print(f"darkportal {name}: {exc}; a run can be continued with --resume", file=sys.stderr)
        return exc.exit_code
    except (DarkportalError, OSError) as exc:  # named errors carry the file and the fix: one line
        if debug:
            raise
        print(f"darkportal {name}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # one readable line for the user; the traceback with --debug
        if debug:
            raise
        print(f"darkportal {name}: error: {_one_line(exc)} (run with --debug for the traceback)", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's flush at exit does not hit the closed pipe again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file descriptor (captured by a test, or already closed)
        pass


def _one_line(exc: BaseException) -> str:
    """The message of ``exc``; an OSError from outside darkportal gets its file named."""
    if isinstance(exc, OSError) and exc.filename is not None and not str(exc).startswith(str(exc.filename)):
        return f"{exc.filename}: {exc.strerror or exc}"
    return str(exc)


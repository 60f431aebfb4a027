"""What a run leaves behind and how it is read back: results folders, summaries, tables, exports, plots, reports.

``rundir`` and ``results`` write a results folder atomically (COMPLETE marker, format version); ``results_read``
reads one back, refusing damaged or foreign files; ``summary``, ``tables`` and ``export`` turn samples into rows
and files for other tools; ``plots*`` draw figures (each function returns a Figure); ``report*`` assemble the
HTML page.
"""

"""Run files: the strict YAML reader, the checks of each section, and the frozen :class:`RunConfig` they resolve to.

``runfile`` loads and validates one file; ``sections``, ``params``, ``measurements`` and ``checks`` read its
sections; ``strict_yaml`` is the loader; ``points`` is validate's last check (a finite likelihood where the prior
has mass).
"""

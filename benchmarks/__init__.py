"""privqml's performance harness (``make bench`` → ``python -m benchmarks.run``).

Every figure is a median over repeated runs with its min and max; every ratio is measured side
by side in one process, the variants interleaved within each repetition (and their order
rotated) so that the noise of a shared machine hits all of them alike. Results go to
``benchmarks/results/latest.json`` and ``latest.md`` (plus PNGs), with the machine and the
exact command that produced them. See ``benchmarks/run.py`` for the options.
"""

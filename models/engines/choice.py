r"""Which engine trains a quantum model by default: the faster one for its size (``engine="auto"``).

Measured side by side (benchmarks/results/dp_engines.md; one fused DP step, hea with 2 layers, the
same batch, C = σ = 1, on a 2-core machine): the vectorised engine's step takes 0.22–0.47× the time
of the TFQ step at every measured size, 4 to 18 qubits and batches of 16 to 128 rows — TFQ's
per-circuit cost dominates small circuits, and at 16–18 qubits its adjoint pass still costs about
twice the vectorised contraction. No crossover in speed was found up to 18 qubits; the limit is
memory: the vectorised engine keeps every intermediate state of every row for the backward pass
(measured ≈ 35 MB per row at 18 qubits, 2 layers; 2ⁿ·8 bytes per state, 4ⁿ·8 per density matrix).
The rule:

- finite shots or Monte-Carlo trajectories: ``tfq`` (only TFQ samples);
- a circuit the vectorised program cannot run (a gate it refuses): ``tfq``;
- noiseless, n ≤ :data:`AUTO_MAX_QUBITS_PURE` (16, where a batch of 256 rows stays under about
  4 GiB): ``vectorised``; above it ``tfq``;
- with noise channels, n ≤ :data:`~privqml.models.engines.program.MAX_QUBITS_MIXED`: ``vectorised``
  (exact density matrices, faster than TFQ's trajectories and exact where they sample); above it
  ``tfq`` with trajectories.

TF-free: importable where only the choice is needed (reports, preflight).
"""

from __future__ import annotations

from privqml.errors import ConfigError, UnsupportedGateError
from privqml.models.engines.program import MAX_QUBITS_MIXED, compile_program
from privqml.theory.ansatz import Ansatz

#: The largest noiseless circuit ``auto`` gives the vectorised engine (module docstring).
AUTO_MAX_QUBITS_PURE = 16


def choose_engine(ansatz: Ansatz, shots: int | None = None, trajectories: int | None = None) -> tuple[str, str]:
    """(engine name, the reason in one phrase) for ``engine="auto"`` (rule in the module docstring)."""
    if shots is not None:
        return "tfq", f"shots={shots}: TFQ samples measurements"
    if trajectories is not None:
        return "tfq", f"trajectories={trajectories}: TFQ samples noise trajectories"
    try:
        program = compile_program(ansatz)
    except (UnsupportedGateError, ConfigError) as error:
        return "tfq", f"the vectorised engine cannot run it ({str(error).split(';')[0]})"
    n = program.n_qubits
    if program.mixed:
        if n <= MAX_QUBITS_MIXED:
            return "vectorised", f"{n} qubits with noise channels <= {MAX_QUBITS_MIXED}: exact density matrices"
        return "tfq", f"{n} qubits with noise channels > {MAX_QUBITS_MIXED}: TFQ trajectories"
    if n <= AUTO_MAX_QUBITS_PURE:
        return "vectorised", f"{n} qubits <= {AUTO_MAX_QUBITS_PURE}: the vectorised step is faster (measured)"
    return "tfq", f"{n} qubits > {AUTO_MAX_QUBITS_PURE}: state memory per row"


__all__ = ["AUTO_MAX_QUBITS_PURE", "choose_engine"]

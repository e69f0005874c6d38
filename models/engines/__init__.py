"""privqml.models.engines — simulation engines behind the model contract, tensors kept in TensorFlow.

- :mod:`~privqml.models.engines.base` — the engine contract: values [B, n_outputs] of rows with
  their own weights and inputs, per-example Jacobians and per-example gradients of a per-row scalar;
- :mod:`~privqml.models.engines.program` — an ansatz compiled into matrices on qubit indices
  (fixed gates, channels, angle slots, Pauli terms);
- :mod:`~privqml.models.engines.vectorised` — tensorcircuit-ng on TensorFlow, vmapped over rows and
  compiled (state vectors; density matrices for noisy circuits);
- :mod:`~privqml.models.engines.tfq` — TensorFlow Quantum's adjoint method behind the same contract.

Names are loaded lazily (TensorFlow and tensorcircuit are imported on first use).
"""

from __future__ import annotations

from privqml._lazy import lazy_exports

_EXPORTS = {
    "Engine": "base",
    "stacked_jacobian": "base",
    "Program": "program",
    "compile_program": "program",
    "MAX_QUBITS_MIXED": "program",
    "MAX_QUBITS_PURE": "program",
    "VectorisedEngine": "vectorised",
    "vectorised_engine": "vectorised",
    "DTYPES": "vectorised",
    "TFQEngine": "tfq",
}

__getattr__, __dir__, __all__ = lazy_exports("privqml.models.engines", _EXPORTS)

r"""TensorFlow Quantum behind the engine contract: the reference the vectorised engine is held to.

f_{i,c} from TFQ's C++ state-vector simulator on the ansatz compiled by
:func:`privqml.models.tfq_circuit.compile_ansatz` (one TFQ symbol per angle slot, exponents from the
slot table), differentiated with TFQ's adjoint method (Jones & Gacon, arXiv:2009.02823): exact
gradients, one forward and one backward pass per circuit. Noise channels are refused here: TFQ
runs them by Monte-Carlo trajectories, an estimate, not the exact channel this contract promises
(the vectorised engine's density-matrix mode is exact).
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_quantum as tfq

from privqml.errors import ConfigError
from privqml.models.engines.base import Engine
from privqml.models.tfq_circuit import CompiledAnsatz, compile_ansatz, expectation
from privqml.theory.ansatz import Ansatz


class TFQEngine(Engine):
    """f_{i,c} with TFQ ``Expectation`` and the ``Adjoint`` differentiator (float32).

    Raises:
        UnsupportedGateError: a gate TFQ cannot simulate (from ``compile_ansatz``).
        ConfigError: a circuit with noise channels (use the vectorised engine's density matrices).
    """

    name = "tfq-adjoint"

    def __init__(self, ansatz: Ansatz) -> None:
        super().__init__(ansatz)
        self.compiled: CompiledAnsatz = compile_ansatz(ansatz)
        if self.compiled.noisy:
            raise ConfigError(
                f"ansatz {ansatz.name!r} has noise channels; TFQ simulates them by sampled trajectories, "
                "not exactly: use the vectorised engine (exact density matrices)"
            )

    def values(self, weights, inputs) -> tf.Tensor:
        weights, inputs = self.rows(weights, inputs)
        # a differentiator instance binds to one op: a fresh one per call
        return expectation(self.compiled, weights, inputs, tfq.differentiators.Adjoint())


__all__ = ["TFQEngine"]

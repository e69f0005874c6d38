"""Bound and verify a circuit written in Cirq, from Python (``privqml bound`` / ``privqml verify``).

    python examples/bound_and_verify.py
"""

import cirq
import sympy

from privqml import api

qubits = cirq.LineQubit.range(2)
x0, x1, a, b, c = sympy.symbols("x0 x1 a b c")
circuit = cirq.Circuit(
    cirq.rx(x0).on(qubits[0]), cirq.rx(x1).on(qubits[1]),  # the data, angles in the public domain [-pi, pi]
    cirq.ry(a).on(qubits[0]), cirq.ry(b).on(qubits[1]),      # trainable
    cirq.CZ(*qubits), cirq.ry(c).on(qubits[0]),
)

bound = api.bound(circuit, inputs=["x0", "x1"], observable="Z0", loss="bce_logits")
print(f"weights: {[w.name for w in bound.ansatz.weights]}")
print(f"gradient-norm bound: {bound.gradient.grad_norm_bound:.4f}")
print(f"loss-gradient bound G* (the clip of clip='bound'): {bound.value:.4f}")

report = api.verify(bound.ansatz, examples=20)
print(f"verified against {', '.join(report.engines)}: {'passed' if report.passed else 'FAILED'}")

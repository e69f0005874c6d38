"""A researcher's own 3-qubit ansatz, as privqml takes it: a function returning a ``privqml.theory.Ansatz``.

Scaled angle encodings rx(s·x_q), trainable ry/rz on every qubit, a CNOT/CZ ladder and an FSim gate,
read out with Z0·Z2 (or Z0, Z1, … for K classes). Use it anywhere privqml takes a model:

    privqml bound examples/my_ansatz.py:my_ansatz --explain
    privqml verify examples/my_ansatz.py:my_ansatz
    privqml train --model examples/my_ansatz.py:my_ansatz --dataset circle --epsilon 2
    privqml train --model examples/my_ansatz.py:my_ansatz --layers 3 --dataset circle

The function's parameters are what the command line may set (``--qubits``, ``--layers``,
``--observable``); ``n_classes`` is passed when the task has more than two classes.
"""

import cirq
import sympy

from privqml.theory import Ansatz

SCALE = 0.8  # the encoding's public scale: inputs x in [-pi, pi] become angles in [-0.8 pi, 0.8 pi]


def my_ansatz(n_layers: int = 2, observable: str | None = None, n_classes: int = 2) -> Ansatz:
    qubits = cirq.LineQubit.range(3)
    inputs = sympy.symbols("x0:2")
    weights = []
    circuit = cirq.Circuit(cirq.rx(SCALE * inputs[q % 2]).on(q_) for q, q_ in enumerate(qubits))
    for layer in range(n_layers):
        angles = sympy.symbols(f"a{layer}_0:3"), sympy.symbols(f"b{layer}_0:3")
        weights += [s for pair in zip(*angles) for s in pair]
        circuit.append(cirq.ry(angles[0][q]).on(qubits[q]) for q in range(3))
        circuit.append(cirq.rz(angles[1][q]).on(qubits[q]) for q in range(3))
        circuit.append([cirq.CNOT(qubits[0], qubits[1]), cirq.CZ(qubits[1], qubits[2])])
        theta = sympy.Symbol(f"fsim{layer}")
        weights.append(theta)
        circuit.append(cirq.FSimGate(theta=theta, phi=0.3).on(qubits[0], qubits[2]))
    if observable is not None:
        from privqml.theory import parse_observables

        observables = parse_observables(observable, qubits)
    elif n_classes > 2:
        observables = tuple(cirq.Z(qubits[k]) * 1.0 for k in range(n_classes))
    else:
        observables = (cirq.Z(qubits[0]) * cirq.Z(qubits[2]) * 1.0,)
    return Ansatz(circuit, weights=tuple(weights), inputs=tuple(inputs), observables=observables,
                  name=f"my_ansatz(n_layers={n_layers})")

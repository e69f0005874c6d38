"""Train a Keras model you built the usual way (a tfq.layers.PQC), privately, with one call.

    python examples/keras_private.py [OUT_DIR]

privqml.keras.fit turns the model into the privqml model of ``encoding + PQC circuit``, trains it through
the trainer ``privqml train`` uses (fast per-example path, clip from the circuit's gradient bound, secret
noise, both accountants, run.json) and writes the released weights back into the Keras model.
"""

import sys

import cirq
import numpy as np
import sympy
import tensorflow as tf
import tensorflow_quantum as tfq

from privqml import keras as pk

out = sys.argv[1] if len(sys.argv) > 1 else "keras_run"
qubits = cirq.GridQubit.rect(1, 2)
x0, x1, a, b = sympy.symbols("x0 x1 a b")
encoding = cirq.Circuit(cirq.rx(x0).on(qubits[0]), cirq.rx(x1).on(qubits[1]))   # one symbol per feature
circuit = cirq.Circuit(cirq.ry(a).on(qubits[0]), cirq.CNOT(*qubits), cirq.ry(b).on(qubits[0]))
model = tf.keras.Sequential([tf.keras.Input(shape=(), dtype=tf.string),
                             tfq.layers.PQC(circuit, cirq.Z(qubits[0]),
                                            initializer=tf.keras.initializers.RandomUniform(-3, 3, seed=2))])

rng = np.random.default_rng(0)  # a synthetic task: features in the public domain [-pi, pi]
x_train, x_test = rng.uniform(-np.pi, np.pi, (240, 2)), rng.uniform(-np.pi, np.pi, (120, 2))
y_train, y_test = (np.cos(x_train[:, 0]) > 0).astype(int), (np.cos(x_test[:, 0]) > 0).astype(int)

result = pk.fit(model, x_train, y_train, validation_data=(x_test, y_test), encoding=encoding, epsilon=2.0,
                epochs=4, batch_size=24, lr=0.1, out=out)
print(f"epsilon {result.privacy.epsilon_rdp:.3f} (RDP) / {result.privacy.epsilon_pld:.3f} (PLD), "
      f"delta {result.privacy.delta:g}; clip {result.clip:.4f} from the bound")
print(f"test accuracy recorded {result.test_accuracy:.3f}")
keras_accuracy = np.mean((model(pk.encode(encoding, x_test)).numpy()[:, 0] > 0) == y_test)
print(f"the Keras model, released weights: accuracy {keras_accuracy:.3f}")

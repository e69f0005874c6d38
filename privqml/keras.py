r"""Train a Keras model you already built, privately: the Keras-shaped entry to privqml's trainer.

In the spirit of TF Privacy's ``DPKerasSGDOptimizer`` and Opacus's ``make_private_with_epsilon``: you keep
the model you built the usual way, and one call trains it with DP-SGD at a target ε,

    import cirq, sympy, tensorflow as tf, tensorflow_quantum as tfq
    from privqml import keras as pk

    qubits = cirq.GridQubit.rect(1, 2)
    x0, x1, a, b = sympy.symbols("x0 x1 a b")
    encoding = cirq.Circuit(cirq.rx(x0).on(qubits[0]), cirq.rx(x1).on(qubits[1]))
    pqc = tfq.layers.PQC(cirq.Circuit(cirq.ry(a).on(qubits[0]), cirq.CNOT(*qubits), cirq.ry(b).on(qubits[0])),
                         cirq.Z(qubits[0]))
    model = tf.keras.Sequential([tf.keras.Input(shape=(), dtype=tf.string), pqc])

    result = pk.fit(model, x, y, validation_data=(x_val, y_val), encoding=encoding, epsilon=1.0, out="run")
    model(pk.encode(encoding, x_val))   # the Keras model now holds the released weights

What it does, and what it keeps:

* :func:`make_private` turns the Keras model into the privqml :class:`~privqml.models.base.Model` that
  computes the same function of the same weights: a model whose one trainable layer is a
  ``tfq.layers.PQC`` becomes a :class:`~privqml.models.quantum.QuantumModel` of the circuit
  ``encoding + PQC circuit`` with the PQC's operators as outputs (its weights in the PQC's symbol order,
  its ``repetitions`` as shots); a ``Sequential`` of ``Dense`` layers becomes a :class:`KerasDenseModel`.
  Anything else is refused in one line that names the layer.
* :func:`fit` trains that model through the trainer ``privqml train`` uses — privqml's fast per-example
  path, the clip from the circuit's gradient bound (``clip='bound'``; a classical model has no bound, so
  give a number, chosen without looking at the training data), secret noise and Poisson batches, finite
  releases, ε by both accountants (RDP and PLD), the clipping meter and ``run.json`` — and writes the
  released weights back into the Keras model.

The quantum case needs the data encoding as a parametrised circuit (``encoding``, its symbols the
features, in ``inputs`` order), not as pre-resolved circuits: the bound is a supremum over the
features' public domain, and privqml builds each example's circuit itself. :func:`encode` gives the
resolved circuits the Keras model takes, to predict with it afterwards.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from privqml.errors import ConfigError
from privqml.models.base import Model
from privqml.models.losses import default_loss

_BOUNDED = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}
_ACTIVATIONS = ("linear", "tanh", "sigmoid", "relu", "elu", "softplus", "swish", "gelu")


def _pqc_class():
    import tensorflow_quantum as tfq

    return tfq.layers.PQC


def _feature_names(encoding, inputs: Sequence) -> list[str]:
    """The encoding's feature symbols in ``inputs`` order (default: sorted by name)."""
    import cirq

    return [str(s) for s in inputs] or sorted(s.name for s in cirq.parameter_symbols(encoding))


def _per_feature(input_domain: Any, n_features: int):
    """One (lo, hi) per feature: a single pair is every feature's; () keeps the default [−π, π]; a mapping by
    feature name is passed on as it is."""
    if isinstance(input_domain, Mapping):
        return input_domain
    domain = tuple(input_domain)
    if domain and not isinstance(domain[0], (tuple, list)):
        return (domain,) * n_features
    return domain


def _trainable_layers(keras_model) -> list:
    return [layer for layer in keras_model.layers if layer.trainable_weights]


def _pqc_circuit(layer):
    """(model circuit, operators, weight symbols in the layer's order, shots or None) of a ``tfq.layers.PQC``."""
    import tensorflow_quantum as tfq

    circuit = tfq.from_tensor(layer._model_circuit)[0]  # noqa: SLF001 - PQC keeps them serialised, no accessor
    operators = tfq.from_tensor(layer._operators)[0]  # noqa: SLF001
    shots = None if layer._analytic else int(np.asarray(layer._repetitions).reshape(-1)[0])  # noqa: SLF001
    return circuit, list(operators), [s.name for s in layer.symbols], shots


def _quantum(keras_model, layer, *, encoding, inputs, input_domain, loss, scale, name, engine):
    import cirq

    from privqml.api import as_ansatz
    from privqml.models.quantum import QuantumModel

    if encoding is None:
        raise ConfigError("the Keras model's PQC takes circuits; pass encoding=<a cirq.Circuit whose symbols are the "
                          "features> so privqml can build each example's circuit and bound it over the features' domain")
    if not isinstance(encoding, cirq.AbstractCircuit):
        raise ConfigError(f"encoding is a {type(encoding).__name__}; pass a cirq.Circuit with one symbol per feature")
    circuit, operators, weight_names, shots = _pqc_circuit(layer)
    data = _feature_names(encoding, inputs)
    shared = sorted(set(data) & set(weight_names))
    if shared:
        raise ConfigError(f"symbols {shared} are both features of the encoding and weights of the PQC; rename them")
    ansatz = as_ansatz(encoding + circuit, inputs=data, weights=weight_names, observable=operators,
                       input_domain=_per_feature(input_domain, len(data)), scale=scale,
                       name=name or f"keras:{keras_model.name}")
    model = QuantumModel(ansatz, loss=loss, shots=shots, engine=engine)
    model.weights.assign(np.asarray(layer.get_weights()[0], np.float32))
    return model


def make_private(keras_model, *, encoding=None, inputs: Sequence = (), input_domain: Any = (),
                 loss: str | None = None, scale: float = 1.0, name: str | None = None, engine: str = "auto"):
    """The privqml Model that computes what ``keras_model`` computes, starting at its current weights.

    Args:
        keras_model: a built Keras model whose one trainable layer is a ``tfq.layers.PQC``, or a
            ``Sequential`` of ``Dense`` layers.
        encoding: (PQC models) the data encoding as a parametrised ``cirq.Circuit``; its symbols are the
            features, in ``inputs`` order (default: sorted by name).
        input_domain: the features' public domain, one (lo, hi) or one per feature (default [−π, π]).
        loss: ``bce_logits`` (default for one output), ``softmax_ce`` (default for several), ``mse``, ``hinge``,
            ``bce_prob``.
        scale: the fixed readout scale s of the logits s·f (quantum models).
        engine: the simulation engine of a quantum model (``auto``, ``tfq``, ``vectorised``).
    """
    layers = _trainable_layers(keras_model)
    if not layers:
        raise ConfigError(f"the Keras model {keras_model.name!r} has no trainable weights; build it (call it once "
                          "or give it an Input) and pass a model with a PQC or Dense layers")
    pqcs = [layer for layer in layers if isinstance(layer, _pqc_class())]
    if pqcs:
        if len(layers) != 1:
            others = [f"{layer.name} ({type(layer).__name__})" for layer in layers if layer is not pqcs[0]]
            raise ConfigError(f"the Keras model trains {others} besides its PQC; privqml bounds the gradient of the "
                              "circuit's readout, so the PQC must be the only trainable layer")
        return _quantum(keras_model, pqcs[0], encoding=encoding, inputs=inputs, input_domain=input_domain,
                        loss=loss, scale=scale, name=name, engine=engine)
    if encoding is not None:
        raise ConfigError("encoding is for a Keras model with a tfq.layers.PQC; this one has none")
    return KerasDenseModel(keras_model, input_domain=input_domain, loss=loss, name=name)


def encode(encoding, x, inputs: Sequence = ()):
    """The resolved circuits (a TFQ string tensor) a PQC Keras model takes for the feature rows ``x``."""
    import cirq
    import tensorflow_quantum as tfq

    names = _feature_names(encoding, inputs)
    rows = np.atleast_2d(np.asarray(x, np.float64))
    return tfq.convert_to_tensor([cirq.resolve_parameters(encoding, dict(zip(names, map(float, row))))
                                  for row in rows])


def write_back(keras_model, model) -> None:
    """Copy ``model``'s weights (as :func:`make_private` laid them out) into the Keras model's layers."""
    flat = np.asarray(model.weights.numpy(), np.float32)
    variables = [v for layer in _trainable_layers(keras_model) for v in layer.trainable_weights]
    sizes = [int(np.prod(v.shape)) for v in variables]
    if sum(sizes) != flat.size:
        raise ConfigError(f"the model has {flat.size} weights, the Keras model {sum(sizes)}; pass the model "
                          "make_private built from this Keras model")
    for variable, chunk in zip(variables, np.split(flat, np.cumsum(sizes)[:-1])):
        variable.assign(chunk.reshape(variable.shape))


def fit(keras_model, x, y, *, validation_data, encoding=None, inputs: Sequence = (), input_domain: Any = (),
        loss: str | None = None, scale: float = 1.0, epsilon: float | None = 1.0,
        noise_multiplier: float | None = None, delta: float = 1e-5, clip: float | str = "bound", epochs: int = 10,
        batch_size: int = 32, lr: float = 0.05, out=None, simulation_seed: int | None = None,
        preprocessing: str = "none", name: str = "keras arrays", progress=None, **config):
    """Train ``keras_model`` with DP-SGD on (``x``, ``y``) through privqml's trainer (module docstring) and write
    the released weights back into it; returns the :class:`~privqml.models.training.records.RunResult`
    (``epsilon_rdp``, ``epsilon_pld``; ``summary()`` is run.json).

    ``x`` are feature rows inside ``input_domain``, ``y`` integer labels 0..K−1; ``validation_data`` =
    (x_test, y_test) is what the recorded test accuracy is measured on. ``preprocessing`` says how you made
    ``x`` from raw data (``none``, ``public-split``, ``projection``, ``private-fit`` …,
    :data:`privqml.models.data.dataset.PREPROCESSING_MODES`): it is written into every output, and
    ``private-fit`` (fitted on these very training rows) is not covered by (ε, δ). Further keywords go to
    :func:`privqml.api.train`.
    """
    from privqml import api
    from privqml.models.data import Dataset

    if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
        raise ConfigError("validation_data must be (x_test, y_test): the run records the test accuracy it measures")
    model = make_private(keras_model, encoding=encoding, inputs=inputs, input_domain=input_domain, loss=loss,
                         scale=scale)
    labels = np.asarray(y).reshape(-1)
    x_test, y_test = validation_data
    n_classes = int(max(np.max(labels), np.max(np.asarray(y_test)))) + 1 if len(labels) else 2
    data = Dataset(name=name, x_train=np.asarray(x, np.float64), y_train=labels,
                   x_test=np.asarray(x_test, np.float64), y_test=np.asarray(y_test).reshape(-1),
                   n_classes=max(2, n_classes), feature_domain=model.input_domain, preprocessing_mode=preprocessing,
                   preprocessing=f"{preprocessing} (declared by the caller of privqml.keras.fit)")
    result = api.train(model, name, epsilon=epsilon, noise_multiplier=noise_multiplier, delta=delta, clip=clip,
                       epochs=epochs, batch_size=batch_size, lr=lr, out=out, simulation_seed=simulation_seed,
                       loss=model.loss, progress=progress, data=data, **config)
    write_back(keras_model, model)
    return result


# -- a Sequential of Dense layers as a privqml Model ------------------------------------------------
class _DenseStack:
    """The (kernel, bias, activation) layout of a Sequential of Dense layers in one flat weight vector."""

    def __init__(self, keras_model) -> None:
        import tensorflow as tf

        self.layers = []
        for layer in keras_model.layers:
            if not layer.trainable_weights and type(layer).__name__ in ("InputLayer", "Flatten"):
                continue
            if not isinstance(layer, tf.keras.layers.Dense):
                raise ConfigError(f"layer {layer.name!r} is a {type(layer).__name__}; privqml.keras trains a "
                                  "tfq.layers.PQC or a Sequential of Dense layers (build other models as a "
                                  "privqml Model, see privqml.models.base)")
            activation = tf.keras.activations.serialize(layer.activation)
            activation = activation if isinstance(activation, str) else activation.get("config", {}).get("name")
            if activation not in _ACTIVATIONS:
                raise ConfigError(f"layer {layer.name!r} has activation {activation!r}; use one of {list(_ACTIVATIONS)} "
                                  "(a softmax belongs in the loss: loss='softmax_ce' on linear outputs)")
            kernel_shape = tuple(int(d) for d in layer.kernel.shape)
            self.layers.append((kernel_shape, bool(layer.use_bias), activation))
        if not self.layers:
            raise ConfigError(f"the Keras model {keras_model.name!r} has no Dense layer")
        self.n_features = self.layers[0][0][0]
        self.n_outputs = self.layers[-1][0][1]
        self.last_activation = self.layers[-1][2]

    def outputs(self, weights, x):
        """The stack on x [B, F] with flat weights [P] (shared) or [B, P] (one row per example)."""
        import tensorflow as tf

        from privqml.models.classical import affine, per_example

        w, batched = per_example(weights)
        rows = tf.shape(w)[0]
        h, start = x, 0
        for (n_in, n_out), use_bias, activation in self.layers:
            kernel = tf.reshape(w[:, start:start + n_in * n_out], [rows, n_in, n_out])
            start += n_in * n_out
            bias = w[:, start:start + n_out] if use_bias else tf.zeros([rows, n_out])
            start += n_out if use_bias else 0
            h = tf.keras.activations.get(activation)(affine(h, kernel, bias, batched))
        return h


class KerasDenseModel(Model):
    """A Sequential of Dense layers: f = the last layer's activation output, logits s·f with s = 1.

    Its output range follows the last activation (tanh: [−1, 1], sigmoid: [0, 1], else unbounded, which
    ``bce_prob`` refuses). A classical model has no gradient bound: its clip is a number you choose.
    """

    family = "classical"

    def __init__(self, keras_model, *, input_domain=(), loss=None, name=None) -> None:
        self.stack = _DenseStack(keras_model)
        n_outputs = self.stack.n_outputs
        low, high = _BOUNDED.get(self.stack.last_activation, (-math.inf, math.inf))
        chosen = loss or default_loss(n_outputs)
        if chosen == "bce_prob" and not math.isfinite(high - low):
            raise ConfigError(f"loss='bce_prob' needs a bounded output; the last layer's activation is "
                              f"{self.stack.last_activation!r}: end in sigmoid or tanh, or use bce_logits")
        n_features = self.stack.n_features
        domain = _per_feature(input_domain, n_features) or ((-math.pi, math.pi),) * n_features
        initial = np.concatenate([np.asarray(v.numpy(), np.float32).reshape(-1)
                                  for layer in _trainable_layers(keras_model) for v in layer.trainable_weights])
        super().__init__(name=name or f"keras:{keras_model.name}", n_features=self.stack.n_features,
                         n_outputs=n_outputs, scale=1.0, output_ranges=[(low, high)] * n_outputs,
                         input_domain=domain, loss=chosen, initial_weights=initial)

    def outputs(self, weights, x):
        return self.stack.outputs(weights, x)

    def describe(self) -> dict:
        out = super().describe()
        out["layers"] = [{"kernel": list(k), "bias": b, "activation": a} for k, b, a in self.stack.layers]
        return out


__all__ = ["KerasDenseModel", "encode", "fit", "make_private", "write_back"]

"""privqml from Python: the entry points a notebook uses, each the function the command line calls.

    import cirq, sympy
    from privqml import api

    bound = api.bound(circuit, inputs=["x0", "x1"], observable="Z0")       # privqml bound
    report = api.verify(bound.ansatz, examples=50)                         # privqml verify
    run = api.train(bound.ansatz, dataset="circle", epsilon=2, out="run")  # privqml train
    run = api.load_run("run"); run.predict(x)                              # a finished run
    audit = api.audit("run")                                               # privqml audit --run
    api.epsilon(noise_multiplier=1.1, n_train=60000, batch_size=256, epochs=60)  # privqml epsilon

A model is a spec string (``"hea:n_layers=3"``, ``"mlp"``, ``"my_ansatz.py:fn"``), a
:class:`privqml.theory.Ansatz` (trained as a quantum model), or a :class:`privqml.models.base.Model` built in
Python. Every run goes through the trainer the command line uses: secret randomness unless a simulation seed
is declared, finite releases, both accountants, the clipping meter and ``run.json``. Errors are
:class:`privqml.errors.PrivqmlError` subclasses with one-line messages.

TensorFlow loads only when a function that needs it runs (``bound``, ``epsilon`` and ``sigma`` never load it).
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any, Iterable, Sequence

from privqml.errors import AnsatzTypeError, ConfigError


# -- bounds ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Bound:
    """What :func:`bound` derived.

    Attributes:
        ansatz: the :class:`~privqml.theory.Ansatz` the bound is of.
        gradient: the :class:`~privqml.theory.bound_record.GradientBound` (per weight, total, per observable).
        loss_gradient: the bound through the loss (the clip ``clip='bound'`` uses), or None without a loss.
    """

    ansatz: Any
    gradient: Any
    loss_gradient: Any = None

    @property
    def value(self) -> float:
        """G*: the loss-gradient bound when a loss was given, else the total gradient-norm bound."""
        if self.loss_gradient is not None:
            return float(self.loss_gradient.value) if self.loss_gradient.value is not None else float("inf")
        return float(self.gradient.grad_norm_bound)

    def as_dict(self) -> dict:
        out = self.gradient.as_dict()
        if self.loss_gradient is not None:
            out["loss_grad_norm_bound"] = self.value
        return out


def _symbols(names: Iterable, known: dict, what: str) -> tuple:
    import sympy

    out = []
    for name in names:
        key = name.name if isinstance(name, sympy.Symbol) else str(name)
        if key not in known:
            raise ConfigError(f"{what} {key!r} is not a symbol of the circuit; its symbols are {sorted(known)}")
        out.append(known[key])
    return tuple(out)


def as_ansatz(circuit, *, inputs: Sequence = (), weights: Sequence | None = None, observable: Any = "Z0",
              input_domain: Any = (), scale: float = 1.0, name: str = "custom"):
    """An :class:`~privqml.theory.Ansatz` from a ``cirq.Circuit``: ``inputs`` names the data symbols (their public
    domain in ``input_domain``, default [-π, π] each), ``weights`` the trainable ones (default: every other
    symbol, by name); ``observable`` is text (``"Z0"``, ``"Z0*Z1"``, ``"Z0,Z1"`` for two outputs, over the
    circuit's qubits in sorted order), a ``cirq.PauliSum``/``PauliString``, or a sequence of them. An Ansatz is
    returned as it is."""
    import cirq

    from privqml.theory import Ansatz, Readout, parse_observables

    if isinstance(circuit, Ansatz):
        return circuit
    if not isinstance(circuit, cirq.AbstractCircuit):
        raise AnsatzTypeError(f"circuit is a {type(circuit).__name__}; pass a cirq.Circuit or a privqml.theory.Ansatz")
    known = {s.name: s for s in cirq.parameter_symbols(circuit)}
    data = _symbols(inputs, known, "input")
    trainable = (_symbols(weights, known, "weight") if weights is not None else
                 tuple(known[k] for k in sorted(known) if known[k] not in data))
    qubits = tuple(sorted(circuit.all_qubits()))
    if isinstance(observable, str):
        observables = parse_observables(observable, qubits)
    elif isinstance(observable, (cirq.PauliSum, cirq.PauliString)):
        observables = (cirq.PauliSum.wrap(observable),)
    else:
        observables = tuple(cirq.PauliSum.wrap(o) for o in observable)
    return Ansatz(circuit, weights=trainable, inputs=data, observables=observables, input_domain=input_domain,
                  readout=Readout(scale=scale), name=name)


def bound(circuit, *, loss: str | None = None, clamp: float | None = None, **ansatz_options) -> Bound:
    """The deterministic gradient-norm bound of a circuit (:func:`as_ansatz` takes the options), and through
    ``loss`` when given: what ``privqml bound`` prints."""
    from privqml.theory import gradient_bound, loss_gradient_bound

    ansatz = as_ansatz(circuit, **ansatz_options)
    gradient = gradient_bound(ansatz)
    through = loss_gradient_bound(ansatz, loss, clamp=clamp, bound=gradient) if loss is not None else None
    return Bound(ansatz, gradient, through)


def verify(circuit, *, examples: int | None = None, engines: str | None = None, seed: int | None = 0,
           profile: str = "ci", **ansatz_options):
    """Property-test the bound against gradients from Cirq and TFQ (``privqml verify``): the report, whose
    ``passed`` is False with a shrunk counterexample when some gradient exceeds the bound."""
    from privqml.theory import gradient_bound
    from privqml.verify.engines import parse_engines
    from privqml.verify.runner import verify_ansatz

    from privqml.verify.engines import DEFAULT_ENGINES

    ansatz = as_ansatz(circuit, **ansatz_options)
    return verify_ansatz(ansatz, examples=examples, engines=parse_engines(engines or DEFAULT_ENGINES), seed=seed,
                         profile=profile,
                         bound_fn=gradient_bound)


# -- training --------------------------------------------------------------------------------------
def _model(model, loss: str | None):
    """(spec string for the record, a Model object or None) of what :func:`train` was given."""
    from privqml.theory import Ansatz

    if isinstance(model, str):
        from privqml.models.specs import check_function, with_options

        spec = with_options(model)
        check_function(spec)
        return spec, None
    if isinstance(model, Ansatz):
        from privqml.models.quantum import QuantumModel

        return f"{model.name} (an Ansatz built in Python)", QuantumModel(model, loss=loss)
    from privqml.models.base import Model

    if isinstance(model, Model):
        return f"{model.name} (a model built in Python)", model
    raise ConfigError(f"model is a {type(model).__name__}; pass a spec string (e.g. 'hea'), a privqml.theory.Ansatz "
                      f"or a privqml Model")


def train(model, dataset: str = "quantum", *, epsilon: float | None = 1.0, noise_multiplier: float | None = None,
          delta: float = 1e-5, clip: float | str = "bound", epochs: int = 10, batch_size: int = 32, lr: float = 0.05,
          seed: int = 0, out: str | pathlib.Path | None = None, simulation_seed: int | None = None,
          loss: str | None = None, progress=None, data=None, **config):
    """Train ``model`` with DP-SGD through the command line's trainer (``privqml train``); returns the
    :class:`~privqml.models.training.records.RunResult` (``summary()`` is run.json's content).

    ``epsilon=float('inf')`` trains the non-private reference; ``noise_multiplier`` replaces ``epsilon``.
    ``simulation_seed`` makes noise and batches reproducible — a labelled simulation, not a private release.
    ``data`` (a :class:`privqml.models.data.Dataset`) replaces the named dataset; further keywords are
    :class:`~privqml.models.training.records.TrainConfig` fields (``path``, ``accountant``, ``n_train``, …).
    A model object (an Ansatz, a Model) is trained in place: its weights are the final weights afterwards.
    """
    from privqml.models.training.records import TrainConfig
    from privqml.models.training.trainer import train as run_training

    if noise_multiplier is not None:
        epsilon = None
    spec, built = _model(model, loss)
    settings = TrainConfig(model=spec, dataset=dataset, epsilon=epsilon, noise_multiplier=noise_multiplier,
                           delta=delta, clip=clip, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                           simulation_seed=simulation_seed, loss=loss, **config)
    return run_training(settings, out_dir=out, progress=progress, data=data, model=built)


@dataclasses.dataclass
class Run:
    """A finished run loaded from its folder (:func:`load_run`).

    Attributes:
        result: the :class:`~privqml.models.training.records.RunResult` (``result.summary()`` is run.json).
        model: the model at the run's released final weights (``None`` when its spec cannot be rebuilt: pass
            the model to :func:`load_run`).
    """

    result: Any
    model: Any

    @property
    def guarantee(self) -> dict:
        """run.json's guarantee block: ε by both accountants, δ, σ, q, T, sampling, randomness, preprocessing."""
        return self.result.summary()["guarantee"]

    @property
    def metrics(self) -> dict:
        """What the guarantee covers (released by the mechanism): test accuracy and its history, the clip."""
        covered = self.result.summary()["covered"]
        return {k: covered[k] for k in ("test_accuracy", "test_history", "clip", "clip_source", "grad_norm_bound")}

    def predict(self, x) -> Any:
        """Class predictions of the released model on features ``x`` (in the model's public input domain)."""
        if self.model is None:
            raise ConfigError("this run's model could not be rebuilt from its spec; load_run(dir, model=...)")
        return self.model.predict(x)


def load_run(run_dir, model=None) -> Run:
    """A finished ``privqml train`` run: its guarantee, metrics and a model at its final (released) weights.
    ``model``: the model object a Python-built run was trained with (its spec names no file)."""
    import numpy as np

    from privqml.models.zoo import build_model
    from privqml.verify.audit.trained_run import load_run as load_result

    result = load_result(run_dir)
    if model is None:
        try:
            n_classes = int(result.summary()["covered"]["dataset"]["n_classes"])
            model = build_model(result.config.model, n_classes, result.config.seed, result.config.loss)
        except ConfigError:
            model = None
    else:
        from privqml.models.base import Model

        if not isinstance(model, Model):
            model = _model(model, result.config.loss)[1]
    if model is not None:
        model.weights.assign(np.asarray(result.final_weights, np.float32))
    return Run(result, model)


def audit(run_dir, *, trials: int | None = None, thorough: bool = False, seed: int = 0) -> dict:
    """``privqml audit --run``: the finished run's record and exact configuration audited; the report as a dict
    (``verdict``: consistent / violation / no-guarantee). The audit re-runs the run's configuration, so the
    run's model must be one its record can rebuild (a spec string or a file's function, not an object)."""
    from privqml.models.specs import parse_model_spec
    from privqml.verify.audit.report import run_audit_report
    from privqml.verify.audit.trained_run import load_run as load_result

    spec = load_result(run_dir).config.model
    try:
        parse_model_spec(spec)
    except ConfigError:
        raise ConfigError(f"the run in {str(run_dir)!r} trained {spec!r}, a model built in Python, which its record "
                          "cannot rebuild for the audit's re-runs; train it from a spec string or from your "
                          "ansatz's file (path/to/file.py:function) to audit it") from None
    return run_audit_report(run_dir, trials=trials, thorough=thorough, seed=seed).as_dict()


def compare(quantum="hea", classical="mlp,logistic", dataset: str = "quantum", *, out="compare_out",
            executor: str = "serial", confirm=None, **design):
    """``privqml compare``: the quantum model against classical ones at fixed C and ε; the comparison's result
    (``report.verdict``, ``report_md``, ``results_json``). ``design`` takes the command's settings
    (``epsilons``, ``clips``, ``n_train``, ``seeds``, ``epochs``, ``lr``, …); ``confirm`` a
    :class:`~privqml.paper_checks.regimes.ConfirmSettings` for the two-stage protocol."""
    from privqml.models.specs import with_options
    from privqml.paper_checks.compare import comparison_design, run_comparison

    spec = with_options(quantum)
    return run_comparison(comparison_design(spec, classical, dataset, **design), out, executor=executor,
                          confirm=confirm)


# -- accounting -----------------------------------------------------------------------------------
def epsilon(*, noise_multiplier: float, n_train: int, batch_size: int = 32, epochs: int = 10,
            delta: float = 1e-5, **options) -> dict:
    """``privqml epsilon``: ε by RDP and PLD at σ, without training (the numbers a run records)."""
    from privqml.models.privacy.budget import account

    return account(noise_multiplier=noise_multiplier, n_train=n_train, batch_size=batch_size, epochs=epochs,
                   delta=delta, **options).as_dict()


def sigma(*, epsilon: float, n_train: int, batch_size: int = 32, epochs: int = 10, delta: float = 1e-5,
          accountant: str = "rdp", **options) -> dict:
    """``privqml sigma``: the σ a run calibrates for ``epsilon``, and the ε it spends by both accountants."""
    from privqml.models.privacy.budget import account

    return account(epsilon=epsilon, n_train=n_train, batch_size=batch_size, epochs=epochs, delta=delta,
                   accountant=accountant, **options).as_dict()


__all__ = ["Bound", "Run", "as_ansatz", "audit", "bound", "compare", "epsilon", "load_run", "sigma", "train",
           "verify"]

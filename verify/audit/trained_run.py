r"""Audit a finished training run: its data, its record, its exact configuration, one verdict.

``privqml audit --run DIR`` reads ``DIR/run.json`` (written by :func:`privqml.models.training.trainer.train`)
and, before any audit work, loads the run's training data as the run did (dataset spec, public
seed, preprocessing, feature range) and compares its SHA-256 fingerprint
(:meth:`privqml.models.data.Dataset.fingerprint`) with the one the run recorded: a run whose data
file is not found, or differs from the recorded data, is refused (ConfigError naming both
fingerprints). Then, at the run's own model, loss, clip C, noise multiplier σ, sampling
probability q, number of steps T, batch size, per-example gradient path, optimizer, public seed
and that very data:

``data``        the fingerprint check above (it passed, or the audit would have stopped).
``record``      :func:`privqml.verify.audit.record.audit_record`: the recorded released updates
                themselves against the recorded σ, C, q and n — noise present (lower-tail χ² tests,
                plain and centred along the trajectory the record implies), sensitivity respected
                (a norm bound per step, Bonferroni over T), every release finite, the record's
                shape — each at false-alarm probability ``alpha``; and the recorded final weights
                are the run's optimizer applied to the recorded updates
                (:mod:`privqml.verify.audit.trajectory`).
``replay``      :func:`privqml.verify.audit.replay.replay_check`: can a reader of run.json reproduce
                the released updates from the recorded seeds? A match means ε = ∞ against that
                reader (``violation``), unless the run declares itself a simulation
                (``no-guarantee``).
``one-step``    :func:`privqml.verify.audit.one_step.one_step_audit` of the trainer's own
                :func:`~privqml.models.privacy.dpsgd.dp_step` on the run's path, at the run's final
                weights, on a Poisson batch of the run's data, with the finite-release check (a
                NaN/inf per-example gradient must contribute zero).
``one-run``     :func:`privqml.verify.audit.one_run.one_run_training_audit`: one training run of the
                same model, loss, path, optimizer, public seed and data with m Dirac canaries, at the
                run's C, σ, q and T (Steinke, Nasr & Jagielski, NeurIPS 2023), ε lower bound vs the
                PLD-accounted ε of those T steps.

The top-level verdict merges the sub-audits' (:func:`~privqml.verify.audit.verdicts.merge_verdicts`):
``violation`` if any is, else ``no-guarantee`` if any is (a simulation run) or the run is not
private, else ``consistent``. ``consistent`` means no violation was found at the audits' power,
not a proof of privacy.

``inject`` names a fault the audit must flag. A trainer fault of :mod:`privqml.verify.audit.broken`
re-trains the run's configuration (on the checked data) with the broken trainer and audits that run.
A record fault of :mod:`privqml.verify.audit.record_faults` changes what the audit is handed:
``noise-shrunk-in-record`` scales the recorded updates (the record check must flag it), and
``wrong-data`` changes one row of the loaded data, so that the fingerprint check refuses it; with
that fault injected the refusal is reported as the failed ``data-fingerprint`` check of the ``data``
sub-audit, verdict ``violation``, and nothing else runs — without it, a mismatch is a ConfigError
(the command line prints it on one line, exit status 2).
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import tempfile

import numpy as np

from privqml import jsonio, validation
from privqml.errors import ConfigError
from privqml.models.data import Dataset
from privqml.models.privacy import dpsgd
from privqml.verify.audit.broken import FAULTS, broken_trainer
from privqml.models.training import runio
from privqml.models.training.records import RunResult
from privqml.models.training.setup import run_setup
from privqml.models.training.trainer import train
from privqml.verify.audit.mechanisms import TrainerStepMechanism, public_canary
from privqml.verify.audit.one_run import one_run_training_audit
from privqml.verify.audit.one_step import one_step_audit
from privqml.verify.audit.record import DEFAULT_ALPHA, ReleaseRecord, audit_record, structure_checks
from privqml.verify.audit.record_faults import RECORD_FAULTS
from privqml.verify.audit.replay import REPLAY_STEPS, replay_check
from privqml.verify.audit.trajectory import record_trajectory
from privqml.verify.audit.verdicts import Check, merge_verdicts

#: Every fault ``inject`` may name: the trainer's, then the record's.
RUN_FAULTS = FAULTS + tuple(RECORD_FAULTS)
#: Hex characters of a fingerprint shown in messages.
FINGERPRINT_CHARS = 12


@dataclasses.dataclass(frozen=True)
class RunAudit:
    """The audit of one finished run.

    Attributes:
        run_dir: the audited folder.
        inject: the fault injected (a trainer fault re-trains the run in a temporary folder), or None.
        setting: what the audits ran at: the run's model, loss, C, σ, q, T, batch size, path,
            optimizer, public seed, preprocessing, feature range, n_train, the fingerprints of the
            data audited and of the data recorded, and the randomness mode.
        sub_audits: name → the sub-audit's JSON dict (each with its own ``verdict``).
        verdict: merged verdict (module docstring).
    """

    run_dir: str
    inject: str | None
    setting: dict
    sub_audits: dict
    verdict: str

    def as_dict(self) -> dict:
        """The audit as privqml JSON values (an infinite ε is ``"inf"``)."""
        return jsonio.to_jsonable({
            "run_dir": self.run_dir, "inject": self.inject, "setting": self.setting,
            "sub_audits": self.sub_audits, "verdict": self.verdict,
            "verdicts": {name: audit["verdict"] for name, audit in self.sub_audits.items()},
        })


def load_summary(run_dir) -> dict:
    """The ``run.json`` object of ``run_dir`` (ConfigError if there is none)."""
    data = runio.read_json(pathlib.Path(run_dir) / "run.json")
    if data is None:
        raise ConfigError(f"run={str(run_dir)!r} has no run.json; give the --out folder of a finished privqml train")
    return data


def load_run(run_dir) -> RunResult:
    """The :class:`~privqml.models.training.records.RunResult` in ``run_dir/run.json`` (ConfigError if none)."""
    return RunResult.from_summary(load_summary(run_dir))


def run_data(run: RunResult) -> Dataset:
    """The run's training data, loaded as the run loaded it (its dataset spec, public seed,
    preprocessing and feature range); a data file is looked up from the current directory, and a
    missing one is a ConfigError."""
    spec = run.config.dataset
    if isinstance(spec, str) and spec.endswith((".npz", ".csv")) and not pathlib.Path(spec).is_file():
        raise ConfigError(
            f"dataset={spec!r} recorded by the run is not found from the current directory {os.getcwd()!r}; "
            "run the audit in the folder where the run's data file is, with the same file"
        )
    return run_setup(run.config).data


def data_fingerprint_check(run: RunResult, data: Dataset, run_dir) -> Check:
    """Whether ``data`` is the data the run recorded (SHA-256 fingerprints equal)."""
    recorded, actual = run.dataset.get("fingerprint"), data.fingerprint()
    short = lambda f: f[:FINGERPRINT_CHARS] if isinstance(f, str) else repr(f)  # noqa: E731
    if recorded == actual:
        return Check("data-fingerprint", True, f"the data has the recorded fingerprint {short(actual)}")
    return Check(
        "data-fingerprint", False,
        f"dataset={run.config.dataset!r} as loaded here has fingerprint {short(actual)} but run={str(run_dir)!r} "
        f"recorded {short(recorded)}: it is not the data the run was trained on; run the audit in the folder where "
        "the run's data file is, with the same file",
    )


def _data_audit(check: Check) -> dict:
    note = ("the audits run on this data" if check.passed else
            "refused before any audit work: no audit of this run on other data means anything")
    return {"checks": [check.as_dict()], "verdict": "consistent" if check.passed else "violation", "note": note}


def _record_audit(summary: dict, run: RunResult, data: Dataset, alpha: float) -> dict:
    """The record checks, with the centred noise test and ``weights-from-updates`` along the
    trajectory the record implies when the record is well formed."""
    record = ReleaseRecord.from_summary(summary)
    if not all(check.passed for check in structure_checks(record)):
        return audit_record(record, alpha).as_dict()
    trajectory = record_trajectory(run.config, data, record, run.final_weights)
    result = audit_record(record, alpha, trajectory.centred, (trajectory.weights_check(),)).as_dict()
    result["final_weights_error"] = trajectory.final_weights_error
    return result


def _replay_audit(run: RunResult, data: Dataset, trainer: dpsgd.Mechanism = dpsgd.GAUSSIAN) -> dict:
    check = replay_check(run, data, trainer)
    if run.config.simulation_seed is not None:
        verdict = "no-guarantee"
        note = "the run declares itself a simulation (seeded noise): it is not private against a reader of the seed"
    else:
        verdict = "consistent" if check.passed else "violation"
        note = "secret randomness claimed"
    return {"checks": [check.as_dict()], "verdict": verdict, "note": note}


def _training(setup, data: Dataset) -> dict:
    """What a sub-audit's model and data are: the fields of the setting table it must match."""
    config = setup.config
    return {
        "model": setup.model.name, "loss": setup.model.loss, "path": config.path, "seed": config.seed,
        "preprocessing": data.preprocessing_mode, "feature_range": config.feature_range,
        "data_fingerprint": data.fingerprint(),
    }


def _one_step_audit(run: RunResult, data: Dataset, trials: int, seed: int,
                    trainer: dpsgd.Mechanism = dpsgd.GAUSSIAN) -> dict:
    config = run.config
    setup = run_setup(config, data)
    model, n_classes = setup.model, setup.n_classes
    model.weights.assign(np.asarray(run.final_weights, np.float32))  # public: released weights
    q = run.privacy.sampling_probability
    rng = np.random.default_rng([seed, 17])  # the auditor's batch: any batch is a valid neighbour pair
    batch = dpsgd.poisson_batch(data.n_train, q, rng)
    x_canary, y_canary = public_canary(model, n_classes)
    mechanism = TrainerStepMechanism(
        model, data.x_train[batch].astype(np.float32), data.y_train[batch], x_canary.astype(np.float32),
        int(y_canary), clip_norm=run.clip, noise_multiplier=run.privacy.noise_multiplier,
        expected_batch_size=config.batch_size, sampling_probability=q, path=config.path, mechanism=trainer,
    )
    result = one_step_audit(mechanism, trials=trials, delta=run.privacy.delta, seed=seed,
                            extra_checks=(mechanism.nonfinite_canary_check(),)).as_dict()
    result["training"] = {**_training(setup, data), "weights": "the run's final weights"}
    return result


def _one_run_audit(run: RunResult, data: Dataset, n_canaries: int, seed: int,
                   trainer: dpsgd.Mechanism = dpsgd.GAUSSIAN) -> dict:
    config = run.config
    return one_run_training_audit(
        config.model, config.dataset, n_canaries=n_canaries, steps=run.privacy.steps,
        batch_size=config.batch_size, n_train=data.n_train, clip=run.clip,
        noise_multiplier=run.privacy.noise_multiplier, lr=config.lr, delta=run.privacy.delta, seed=seed,
        preprocessing=config.preprocessing, loss=config.loss, path=config.path, optimizer=config.optimizer,
        feature_range=config.feature_range, public_seed=config.seed, data=data, trainer=trainer,
    ).as_dict()


def run_setting(run: RunResult, data: Dataset) -> dict:
    """The setting table of the audit of ``run`` on ``data`` (what every sub-audit ran at)."""
    config = run.config
    return {
        "model": run.model.get("name"), "model_spec": config.model, "loss": run.model.get("loss"),
        "dataset": config.dataset, "clip_norm": run.clip, "noise_multiplier": run.privacy.noise_multiplier,
        "sampling_probability": run.privacy.sampling_probability, "steps": run.privacy.steps,
        "batch_size": config.batch_size, "path": config.path, "optimizer": config.optimizer, "lr": config.lr,
        "seed": config.seed, "preprocessing": data.preprocessing_mode, "feature_range": config.feature_range,
        "n_train": data.n_train, "data_fingerprint": data.fingerprint(),
        "data_fingerprint_recorded": run.dataset.get("fingerprint"),
        "epsilon_rdp": run.privacy.epsilon_rdp, "epsilon_pld": run.privacy.epsilon_pld, "delta": run.privacy.delta,
        "randomness": "simulation" if config.simulation_seed is not None else "secret",
    }


def audit_run(run_dir, *, trials: int = 20_000, n_canaries: int = 1000, inject: str | None = None,
              seed: int = 0, alpha: float = DEFAULT_ALPHA, data: Dataset | None = None) -> RunAudit:
    """Audit the run in ``run_dir`` (module docstring). ``inject`` names a fault to flag, ``alpha``
    is the false-alarm probability of each record check, ``data`` the run's training data when it
    cannot be loaded from its spec (it is fingerprint-checked all the same); ``seed`` seeds the
    audits' own randomness (the run's public seed is the recorded one)."""
    validation.integer("trials", trials, 20, hint="trials per side; use thousands for power")
    validation.integer("n_canaries", n_canaries, 4)
    if inject is not None:
        validation.choice("inject", inject, RUN_FAULTS, what="trainer or record fault")
    record_fault = RECORD_FAULTS.get(inject)
    trainer_fault = inject if inject in FAULTS else None
    trainer = broken_trainer(trainer_fault) if trainer_fault else dpsgd.GAUSSIAN
    summary = load_summary(run_dir)
    if record_fault is not None:
        summary = record_fault.summary(summary)
    run = RunResult.from_summary(summary)
    if run.privacy.private and run.clip is None:
        raise ConfigError(f"run={str(run_dir)!r} has no clip recorded; it cannot be audited")
    data = run_data(run) if data is None else data
    if record_fault is not None:
        data = record_fault.data(data)
    fingerprint = data_fingerprint_check(run, data, run_dir)
    audits = {"data": _data_audit(fingerprint)}
    if not fingerprint.passed:
        if record_fault is None or record_fault.name != "wrong-data":
            raise ConfigError(fingerprint.detail)
        return RunAudit(str(run_dir), inject, run_setting(run, data), audits, "violation")
    with tempfile.TemporaryDirectory(prefix="privqml-audit-") as scratch:
        if trainer_fault is not None:  # the same configuration and data, trained by the broken trainer
            run = train(run.config, out_dir=scratch, data=data, mechanism=trainer)
            summary = run.summary()
        if run.privacy.private:
            audits["record"] = _record_audit(summary, run, data, alpha)
        audits["replay"] = _replay_audit(run, data, trainer)
        if run.privacy.private:
            audits["one_step"] = _one_step_audit(run, data, trials, seed, trainer)
            audits["one_run"] = _one_run_audit(run, data, n_canaries, seed, trainer)
    verdict = merge_verdicts(a["verdict"] for a in audits.values())
    if not run.privacy.private and verdict != "violation":
        verdict = "no-guarantee"
    return RunAudit(str(run_dir), inject, run_setting(run, data), audits, verdict)


__all__ = ["FINGERPRINT_CHARS", "REPLAY_STEPS", "RUN_FAULTS", "RunAudit", "audit_run", "data_fingerprint_check",
           "load_run", "load_summary", "replay_check", "run_data", "run_setting"]

r"""Audit a finished training run: its exact configuration, its recorded releases, one verdict.

``privqml audit --run DIR`` reads ``DIR/run.json`` (written by :func:`privqml.models.training.trainer.train`)
and runs, at that run's own model, clip C, noise multiplier σ, sampling probability q, number of
steps T, batch size and per-example gradient path:

``replay``      the adversary who holds run.json and the training data (the DP threat model: it
                knows every example but the one in question) re-runs the first steps of the
                recorded configuration with the recorded seed put through the seed derivations it
                knows (privqml's former one, (seed, epoch) → PCG64 and seed·1000003 + epoch for
                TensorFlow; plain seeding; the declared simulation seed) and compares with the
                recorded released updates. A match means the noise and batches are a function of
                what was written out: against that adversary ε = ∞ (``violation``), unless the run
                declares itself a simulation (then ``no-guarantee``).
``one-step``    :func:`privqml.verify.audit.one_step.one_step_audit` of the trainer's own
                :func:`~privqml.models.privacy.dpsgd.dp_step` at the run's final weights on a Poisson batch
                of the training data, with the finite-release check (a NaN/inf per-example
                gradient must contribute zero).
``one-run``     :func:`privqml.verify.audit.one_run.one_run_training_audit`: one training run of the
                same model with m Dirac canaries, at the run's C, σ, q and T (Steinke, Nasr &
                Jagielski, NeurIPS 2023), ε lower bound vs the PLD-accounted ε of those T steps.

The top-level verdict merges the sub-audits' (:func:`~privqml.verify.audit.verdicts.merge_verdicts`):
``violation`` if any is, else ``no-guarantee`` if any is (a simulation run) or the run is not
private, else ``consistent``. ``consistent`` means no violation was found at the audits' power,
not a proof of privacy.

With ``inject`` the run's configuration is first re-trained with one of the trainer faults of
:mod:`privqml.models.privacy.faults` and that run is audited (the audits must flag each fault).
"""

from __future__ import annotations

import dataclasses
import pathlib
import tempfile

import numpy as np

from privqml import jsonio, validation
from privqml.errors import ConfigError
from privqml.models.privacy import dpsgd, faults
from privqml.models.privacy.randomness import EpochRandomness, epoch_randomness
from privqml.models.training import runio
from privqml.models.training.records import RunResult, TrainConfig
from privqml.models.training.setup import run_setup
from privqml.models.training.trainer import optimizer_for, release_step, train
from privqml.verify.audit.mechanisms import TrainerStepMechanism, public_canary
from privqml.verify.audit.one_run import one_run_training_audit
from privqml.verify.audit.one_step import one_step_audit
from privqml.verify.audit.setting import AuditSetting
from privqml.verify.audit.verdicts import Check, merge_verdicts

#: How many leading steps the replay re-runs (each must match for a reproduction).
REPLAY_STEPS = 3


@dataclasses.dataclass(frozen=True)
class RunAudit:
    """The audit of one finished run.

    Attributes:
        run_dir: the audited folder (a temporary one for an injected fault).
        inject: the trainer fault the run was re-trained with, or None.
        setting: the run's model, C, σ, q, T, batch size, path, n_train, randomness mode.
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


def _candidates(config) -> list[tuple[str, object]]:
    """Seed derivations the replaying adversary tries: (label, epoch → EpochRandomness)."""
    seed = int(config.seed)
    out = [
        ("recorded seed, (seed, epoch) derivation",
         lambda e: EpochRandomness(np.random.default_rng([seed, e, 31]), seed * 1_000_003 + e)),
        ("recorded seed, plain", lambda e: EpochRandomness(np.random.default_rng(seed), seed)),
    ]
    if config.simulation_seed is not None:
        out.append(("declared simulation seed", lambda e: epoch_randomness(config.simulation_seed, e)))
    return out


def replay_check(run) -> Check:
    """Re-run the first :data:`REPLAY_STEPS` steps of ``run`` (a RunResult) under every candidate
    derivation of its recorded seeds; a candidate reproducing every released update fails it."""
    config = run.config
    released = np.asarray(run.released_updates, np.float64)
    steps = min(REPLAY_STEPS, len(released))
    if steps == 0:
        return Check("replay", True, "no released updates recorded: nothing to replay")
    setup = run_setup(config)  # the recorded data and a model at the recorded initial weights
    initial = setup.model.weights.numpy()
    x_train = setup.data.x_train.astype(np.float32)
    candidates = _candidates(config)
    for label, derive in candidates:
        setup.model.weights.assign(initial)
        optimizer = optimizer_for(config)
        streams = derive(0)
        dpsgd.reseed_noise(streams.noise_seed)
        matched = 0
        for t in range(steps):  # the trainer's own step, with the candidate's randomness
            _, result = release_step(setup, x_train, streams.batches, optimizer)
            if not np.allclose(result.gradient, released[t], rtol=1e-5, atol=1e-7):
                break
            matched += 1
        if matched == steps:
            return Check(
                "replay", False,
                f"the first {steps} released updates are reproduced from run.json ({label}): the noise and the "
                "batches are a function of what was written out — against a reader of run.json epsilon is infinite",
            )
    return Check("replay", True,
                 f"no known derivation of the recorded seeds reproduces the first {steps} released updates "
                 f"({len(candidates)} tried)")


def _replay_audit(run) -> dict:
    check = replay_check(run)
    simulation = run.config.simulation_seed is not None
    if simulation:
        verdict = "no-guarantee"
        note = "the run declares itself a simulation (seeded noise): it is not private against a reader of the seed"
    else:
        verdict = "consistent" if check.passed else "violation"
        note = "secret randomness claimed"
    return {"checks": [check.as_dict()], "verdict": verdict, "note": note}


def short_run_replay(setting: AuditSetting, *, path: str = "fast", epochs: int = 1) -> Check:
    """Train the setting's configuration briefly (secret randomness, as ``privqml train`` does) and
    replay it from its record (:func:`replay_check`): the check fails when the recorded seed
    reproduces the released updates."""
    config = TrainConfig(model=setting.model_spec, dataset=setting.dataset, epsilon=None,
                         noise_multiplier=setting.noise_multiplier, clip=setting.clip_norm,
                         batch_size=setting.expected_batch_size, epochs=epochs, n_train=setting.n_train,
                         seed=setting.seed, path=path, delta=setting.delta, meter_every=0)
    return replay_check(train(config))


def _one_step_audit(run, trials: int, seed: int) -> dict:
    config = run.config
    setup = run_setup(config)
    model, data, n_classes = setup.model, setup.data, setup.n_classes
    model.weights.assign(np.asarray(run.final_weights, np.float32))  # public: released weights
    q = run.privacy.sampling_probability
    rng = np.random.default_rng([seed, 17])  # the auditor's batch: any batch is a valid neighbour pair
    batch = dpsgd.poisson_batch(data.n_train, q, rng)
    x_canary, y_canary = public_canary(model, n_classes)
    mechanism = TrainerStepMechanism(
        model, data.x_train[batch].astype(np.float32), data.y_train[batch], x_canary.astype(np.float32),
        int(y_canary), clip_norm=run.clip, noise_multiplier=run.privacy.noise_multiplier,
        expected_batch_size=config.batch_size, sampling_probability=q, path=config.path,
    )
    result = one_step_audit(mechanism, trials=trials, delta=run.privacy.delta, seed=seed,
                            extra_checks=(mechanism.nonfinite_canary_check(),))
    return result.as_dict()


def _one_run_audit(run, n_canaries: int, seed: int) -> dict:
    config = run.config
    return one_run_training_audit(
        config.model, config.dataset, n_canaries=n_canaries, steps=run.privacy.steps,
        batch_size=config.batch_size, n_train=run.dataset["n_train"], clip=run.clip,
        noise_multiplier=run.privacy.noise_multiplier, lr=config.lr, delta=run.privacy.delta, seed=seed,
        preprocessing=config.preprocessing,
    ).as_dict()


def load_run(run_dir) -> RunResult:
    """The :class:`~privqml.models.training.records.RunResult` in ``run_dir/run.json`` (ConfigError if none)."""
    path = pathlib.Path(run_dir) / "run.json"
    data = runio.read_json(path)
    if data is None:
        raise ConfigError(f"run={str(run_dir)!r} has no run.json; give the --out folder of a finished privqml train")
    return RunResult.from_summary(data)


def audit_run(run_dir, *, trials: int = 20_000, n_canaries: int = 1000, inject: str | None = None,
              seed: int = 0) -> RunAudit:
    """Audit the run in ``run_dir`` (module docstring); ``inject`` re-trains it with a fault first."""
    validation.integer("trials", trials, 20, hint="trials per side; use thousands for power")
    validation.integer("n_canaries", n_canaries, 4)
    if inject is not None:
        faults.check_fault(inject)
    run = load_run(run_dir)
    if run.privacy.private and run.clip is None:
        raise ConfigError(f"run={str(run_dir)!r} has no clip recorded; it cannot be audited")
    with faults.injected(inject), tempfile.TemporaryDirectory(prefix="privqml-audit-") as scratch:
        if inject is not None:  # the same configuration, trained by the broken trainer
            run = train(run.config, out_dir=scratch)
        audits = {"replay": _replay_audit(run)}
        if run.privacy.private:
            audits["one_step"] = _one_step_audit(run, trials, seed)
            audits["one_run"] = _one_run_audit(run, n_canaries, seed)
    setting = {
        "model": run.model.get("name"), "model_spec": run.config.model, "dataset": run.config.dataset,
        "clip_norm": run.clip, "noise_multiplier": run.privacy.noise_multiplier,
        "sampling_probability": run.privacy.sampling_probability, "steps": run.privacy.steps,
        "batch_size": run.config.batch_size, "path": run.config.path, "n_train": run.dataset.get("n_train"),
        "epsilon_rdp": run.privacy.epsilon_rdp, "epsilon_pld": run.privacy.epsilon_pld,
        "delta": run.privacy.delta,
        "randomness": "simulation" if run.config.simulation_seed is not None else "secret",
    }
    verdict = merge_verdicts(a["verdict"] for a in audits.values())
    if not run.privacy.private and verdict != "violation":
        verdict = "no-guarantee"
    return RunAudit(str(run_dir), inject, setting, audits, verdict)


__all__ = ["REPLAY_STEPS", "RunAudit", "audit_run", "load_run", "replay_check", "short_run_replay"]

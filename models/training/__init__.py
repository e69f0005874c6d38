"""privqml.models.training — the training driver and its records.

- :mod:`~privqml.models.training.records` — ``TrainConfig`` and ``RunResult`` (run.json's blocks);
- :mod:`~privqml.models.training.trainer` — ``train(config) -> RunResult`` and the one run set-up
  (``model_and_data``) the audits reuse;
- :mod:`~privqml.models.training.runio` — atomic run files, the curves PNG, the output folder check.
"""

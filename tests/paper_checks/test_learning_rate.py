"""The public learning-rate rule: which data it reads (never the private split) and how it picks."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.datasets

from privqml.errors import ConfigError
from privqml.models.data import digits_split, load_dataset
from privqml.models.training import trainer
from privqml.paper_checks import learning_rate as lr_module
from privqml.paper_checks.learning_rate import PROXY_SEED, LRRule, choice_seed, choose_lr, public_data

RULE = LRRule(grid=(0.05, 0.2), epochs=1, batch_size=16, n_fit=32, n_val=32)
SEED = 1234


def _fresh_choice(model: str, dataset: str, seed: int, rule: LRRule):
    lr_module._choose.cache_clear()
    return choose_lr(model, dataset, seed, rule)


def test_digits_rule_reads_only_the_public_rows_and_ignores_poisoned_private_data(monkeypatch):
    raw = digits_split("digits:0v1", "public-split", SEED)
    public = set(raw.public_index.tolist())
    assert public and not public & set(raw.train_index.tolist()) and not public & set(raw.test_index.tolist())
    assert set(public_data("digits:0v1", "hea", SEED, RULE).rows) == public
    before = _fresh_choice("hea", "digits:0v1", SEED, RULE)

    original = sklearn.datasets.load_digits

    def poisoned(*args, **kwargs):
        """The images of the private training and test rows replaced by noise (the labels kept: the
        data layer's stratified split, a public choice made before training, uses them)."""
        bunch = original()
        images, target = bunch.data.copy(), bunch.target.copy()
        private = np.concatenate([raw.train_index, raw.test_index])
        images[private] = np.random.default_rng(0).integers(0, 17, size=images[private].shape)
        if kwargs.get("return_X_y"):
            return images, target
        bunch.data, bunch.target = images, target
        return bunch

    monkeypatch.setattr(sklearn.datasets, "load_digits", poisoned)
    assert not np.array_equal(digits_split("digits:0v1", "public-split", SEED).x_train, raw.x_train)  # poison took
    after = _fresh_choice("hea", "digits:0v1", SEED, RULE)
    assert after == before  # the same learning rate, accuracies, losses and public data (fingerprint)
    lr_module._choose.cache_clear()


def test_synthetic_proxy_is_fresh_public_draws_shared_by_every_replicate():
    assert choice_seed("quantum", 7) == choice_seed("quantum", 8) == PROXY_SEED
    assert choice_seed("digits:3v5", 7) == 7  # digits: the replicate's own public split
    proxy = public_data("circle", "hea", 7, RULE).data
    private = load_dataset("circle", 4, seed=7, n_train=400, n_test=300)
    rows = {tuple(r) for r in np.round(private.x_train, 12)}
    assert proxy.n_train == RULE.n_fit and proxy.n_test == RULE.n_val
    assert not any(tuple(r) in rows for r in np.round(proxy.x_train, 12))
    assert public_data("circle", "hea", 8, RULE).data.fingerprint() == proxy.fingerprint()


def test_rule_takes_best_validation_accuracy_then_lower_loss_then_smaller_rate(monkeypatch):
    scores = {0.01: (0.7, 0.5), 0.05: (0.8, 0.6), 0.2: (0.8, 0.4)}

    class Fake:
        def __init__(self, lr):
            self.history = ({"test_accuracy": scores[lr][0], "test_loss": scores[lr][1]},)

    monkeypatch.setattr(trainer, "train_replicates", lambda configs, data=None: [Fake(c.lr) for c in configs])
    rule = LRRule(grid=(0.2, 0.01, 0.05), epochs=1, n_fit=32, n_val=32)
    choice = _fresh_choice("mlp", "quantum", 0, rule)
    assert choice.grid == (0.01, 0.05, 0.2) and choice.lr == 0.2  # tie on accuracy: the lower loss wins
    assert choice.accuracies == (0.7, 0.8, 0.8)
    scores[0.2] = (0.8, 0.6)
    assert _fresh_choice("mlp", "quantum", 0, rule).lr == 0.05  # full tie: the smaller rate
    lr_module._choose.cache_clear()


def test_bad_rules_and_unsupported_data():
    with pytest.raises(ConfigError, match="lr=-0.1"):
        LRRule(grid=(-0.1,))
    with pytest.raises(ConfigError, match="grid is empty"):
        LRRule(grid=())
    with pytest.raises(ConfigError, match="--lr NUMBER"):
        public_data("data.npz", "hea", 0, RULE)

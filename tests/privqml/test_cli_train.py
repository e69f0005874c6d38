"""``privqml train``: every bad input is one clear message with exit status 2; --json is strict JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from privqml.cli import main
from privqml.models.training import runio

TINY = ["--n-train", "24", "--n-test", "8", "--batch-size", "6", "--epochs", "1"]


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--clip", "-1"], "clip=-1"),
        (["--clip", "0"], "clip=0"),
        (["--clip", "abc"], "clip='abc'"),
        (["--epsilon", "-1"], "epsilon=-1"),
        (["--epsilon", "0"], "epsilon=0"),
        (["--delta", "0"], "delta=0"),
        (["--delta", "1.5"], "delta=1.5"),
        (["--epsilon", "1", "--noise-multiplier", "1"], "both given"),
        (["--batch-size", "500"], "batch_size=500 exceeds"),
        (["--model", "cnn"], "model='cnn'"),
        (["--dataset", "mnist"], "dataset='mnist'"),
        (["--epochs", "0"], "epochs=0"),
        (["--model", "mlp:clamp=0", "--loss", "bce_prob", "--clip", "1"], "clamp=0.0 must lie in (0, 0.5)"),
        (["--model", "mlp:clamp=-0.1", "--loss", "bce_prob", "--clip", "1"], "clamp=-0.1 must lie in (0, 0.5)"),
        (["--model", "hea:clamp=0.5", "--loss", "bce_prob", "--clip", "1"], "clamp=0.5 must lie in (0, 0.5)"),
        (["--model", "hea:scale=-2"], "scale=-2.0 must be a finite number > 0"),
        (["--dataset", "quantum", "--feature-range", "0,1"], "feature_range applies to .npz and .csv files"),
    ],
)
def test_bad_input_exits_2_with_one_message(capsys, args, needle):
    status = main(["train", *TINY[:4], *args])
    captured = capsys.readouterr()
    assert status == 2
    text = captured.err.strip()
    assert needle in text and "Traceback" not in captured.err + captured.out
    assert len(text.splitlines()) == 1  # one line, not wrapped at the console's width


def test_nan_features_exit_2(tmp_path, capsys):
    x = np.random.default_rng(0).normal(size=(20, 6))
    x[2, 2] = np.nan
    path = tmp_path / "nan.npz"
    np.savez(path, x_train=x, y_train=np.arange(20) % 2, x_test=np.zeros((4, 6)), y_test=[0, 1, 0, 1])
    status = main(["train", "--dataset", str(path), "--batch-size", "4", "--epochs", "1"])
    captured = capsys.readouterr()
    assert status == 2 and "NaN" in captured.err and "Traceback" not in captured.err


def test_json_output_and_files(tmp_path, capsys):
    status = main(["train", "--model", "mlp", *TINY, "--epsilon", "3", "--out", str(tmp_path), "--json"])
    captured = capsys.readouterr()
    assert status == 0
    data = json.loads(captured.out)
    for key in ("epsilon_rdp", "epsilon_pld", "delta", "noise_multiplier", "randomness", "caveats"):
        assert key in data["guarantee"]
    for key in ("test_accuracy", "clip", "grad_norm_bound", "final_weights", "released_updates"):
        assert key in data["covered"]
    for key in ("clip_fraction_max", "clip_bias_max", "predicted_bias_max", "max_per_example_norm"):
        assert key in data["not_covered"]["clip_meter"]
    assert data["guarantee"]["epsilon_rdp"] <= 3.0 and data["guarantee"]["delta"] == 1e-5
    assert json.loads((tmp_path / "run.json").read_text()) == data
    assert (tmp_path / "curves.png").stat().st_size > 10_000
    curves = runio.plot_run(data, tmp_path / "again.png")  # curves.png drawn again: what it shows
    assert curves == runio.run_curves(data)
    assert curves.epochs == (1,) and curves.test_accuracy == (data["covered"]["test_accuracy"],)
    assert curves.clip == data["covered"]["clip"] and curves.grad_norm_bound is None  # mlp: no bound of its own
    assert curves.norm_max == tuple(m["norm_max"] for m in data["not_covered"]["clip_history"])
    assert f"ε_RDP = {data['guarantee']['epsilon_rdp']:.3g}" in curves.title


@pytest.mark.parametrize("option", ["--n-train", "--n-test"])
def test_sizes_of_a_dataset_whose_split_fixes_them_are_refused(capsys, option):
    """digits' split fixes n_train and n_test: a size given for it is refused, not silently ignored."""
    status = main(["train", "--dataset", "digits:3v5", option, "50", "--epochs", "1"])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1
    assert f"{option} 50 applies to the synthetic tasks" in err and "digits:3v5" in err


@pytest.mark.parametrize("text", ["0", "0,1,2", "a,b", "1,0", "0,inf", ";"])
def test_a_malformed_feature_range_is_one_line(tmp_path, capsys, text):
    path = tmp_path / "d.npz"
    np.savez(path, x_train=np.zeros((8, 3)), y_train=np.arange(8) % 2, x_test=np.zeros((4, 3)), y_test=[0, 1, 0, 1])
    status = main(["train", "--dataset", str(path), "--feature-range", text, "--epochs", "1", "--batch-size", "2"])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1 and "feature" in err and "range" in err


def test_feature_range_option_reads_one_pair_or_one_per_feature():
    from privqml.cli.train import feature_range_option

    assert feature_range_option("0,16") == (0.0, 16.0)
    assert feature_range_option("0,1;-1,1") == ((0.0, 1.0), (-1.0, 1.0))
    assert feature_range_option(None) is None


def _user_csv(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, size=(60, 6))
    path = tmp_path / "user.csv"
    np.savetxt(path, np.column_stack([x, (x[:, 0] > 0.5).astype(int)]), delimiter=",")
    return path


def test_a_user_csv_without_public_data_is_refused_with_the_ways_out(tmp_path, capsys):
    status = main(["train", "--dataset", str(_user_csv(tmp_path)), "--epochs", "1", "--batch-size", "4"])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1
    assert "x_public" in err and "--feature-range" in err and "own-rows-split" in err


def test_a_declared_range_maps_a_user_csv_data_independently(tmp_path, capsys):
    status = main(["train", "--model", "mlp", "--dataset", str(_user_csv(tmp_path)), "--feature-range", "0,1",
                   "--epochs", "1", "--batch-size", "4", "--clip", "1", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert data["guarantee"]["preprocessing"] == {**data["guarantee"]["preprocessing"], "mode": "projection",
                                                  "covered": True}
    assert data["covered"]["dataset"]["n_unprotected"] == 0 and data["guarantee"]["caveats"] == []
    assert data["config"]["feature_range"] == [0.0, 1.0]


def test_own_rows_split_counts_the_rows_that_lost_protection_in_every_output(tmp_path, capsys):
    args = ["train", "--model", "mlp", "--dataset", str(_user_csv(tmp_path)), "--preprocessing", "own-rows-split",
            "--epochs", "1", "--batch-size", "4", "--clip", "1"]
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    n_lost = data["covered"]["dataset"]["n_unprotected"]
    assert n_lost == data["covered"]["dataset"]["n_public"] >= 1
    assert any(f"{n_lost} of the user's own rows" in c and "NOT protected" in c for c in data["guarantee"]["caveats"])
    assert main(args) == 0
    out = " ".join(capsys.readouterr().out.split())
    # the caveat is a warning line of its own; the guarantee table's preprocessing row names the count too
    assert f"warning: {n_lost} of the user's own rows" in out and f"{n_lost} held-out rows" in out


@pytest.mark.parametrize("args", [["--epsilon", "-1"], ["--clip", "abc"], ["--dataset", "mnist"], ["--model", "cnn"],
                                  ["--epochs", "0"], ["--path", "slow"], ["--model", "hea", "--observable", "Z1"]])
def test_a_typo_is_refused_before_tensorflow_loads(args):
    """Each typo used to cost the 5-15 s of importing TensorFlow; the configuration is checked without it."""
    import subprocess
    import sys

    code = ("import sys; from privqml.cli import main; status = main(['train', *sys.argv[1:]]); "
            "print(status, 'tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    assert done.stdout.split()[-2:] == ["2", "False"], done.stdout + done.stderr
    assert done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1


def test_out_is_never_overwritten_silently_and_a_refused_run_leaves_no_folder(tmp_path, capsys):
    out = tmp_path / "run"
    base = ["train", "--model", "mlp", *TINY, "--out", str(out)]
    assert main(base) == 0
    first = (out / "run.json").read_text()
    capsys.readouterr()
    assert main(base) == 0  # the same configuration: loaded, announced, not retrained
    assert "already holds this run (same configuration): loading it, not retraining" in capsys.readouterr().err
    assert (out / "run.json").read_text() == first
    assert main([*base, "--epsilon", "3"]) == 2  # another configuration: refused, the finished run kept
    err = capsys.readouterr().err.strip()
    assert "holds a finished run of another configuration (differs in epsilon)" in err and "--force" in err
    assert len(err.splitlines()) == 1 and (out / "run.json").read_text() == first
    assert main([*base, "--epsilon", "3", "--force"]) == 0
    assert "--force: replacing" in capsys.readouterr().err
    assert json.loads((out / "run.json").read_text())["config"]["epsilon"] == 3.0
    missing = tmp_path / "never"
    assert main(["train", "--model", "mlp", *TINY, "--epsilon", "-1", "--out", str(missing)]) == 2
    assert not missing.exists()


def test_an_interrupted_run_is_announced_when_it_resumes(tmp_path, capsys, monkeypatch):
    from privqml.models.training import trainer

    out = tmp_path / "run"
    argv = ["train", "--model", "mlp", *TINY[:6], "--epochs", "2", "--out", str(out)]
    real = trainer._Run.save_checkpoint

    def save_then_stop(self, optimizer, index):  # killed right after the first epoch's checkpoint
        real(self, optimizer, index)
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer._Run, "save_checkpoint", save_then_stop)
    assert main(argv) == 130
    assert "interrupted: finished epochs are kept in" in capsys.readouterr().err
    monkeypatch.setattr(trainer._Run, "save_checkpoint", real)
    assert (out / "checkpoint.json").is_file() and not (out / "run.json").exists()
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert f"resuming {out} from its checkpoint after epoch 1 of 2" in err
    assert json.loads((out / "run.json").read_text())["config"]["epochs"] == 2

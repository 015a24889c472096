"""examples/gru_variants: the digits task (on synthetic images: no scikit-learn needed), the study's
network for every variant, a few training steps through graphrnn's loop, and the report."""
from __future__ import annotations

import importlib
import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

FOLDER = Path(__file__).resolve().parents[2] / "examples" / "gru_variants"


def _module(name):
    if str(FOLDER) not in sys.path:
        sys.path.insert(0, str(FOLDER))      # run.py's trials import `digits` from there too
    spec = importlib.util.spec_from_file_location(f"gru_variants_{name}", FOLDER / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


study = _module("run")
digits = importlib.import_module("digits")   # the very module run.py's trials import


def synthetic(n=40, seed=0):
    """Images (n, 8, 8) in [0, 1] and labels 0..9, each class present."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 1.0, (n, 8, 8)), np.arange(n) % 10


def make_task(form, n_train=40, n_test=20):
    train_x, train_y = synthetic(n_train, 0)
    test_x, test_y = synthetic(n_test, 1)
    return digits.Digits(train_x, train_y, test_x, test_y, form=form)


def test_rows_and_pixels_read_the_image_in_reading_order():
    images, _ = synthetic(3)
    rows, pixels = digits.as_sequences(images, "rows"), digits.as_sequences(images, "pixels")
    assert rows.shape == (8, 3, 8) and pixels.shape == (64, 3, 1)
    for t in range(64):
        np.testing.assert_array_equal(pixels[t, :, 0], images[:, t // 8, t % 8])
    for t in range(8):
        np.testing.assert_array_equal(rows[t], images[:, t, :])


@pytest.mark.parametrize("form", ["rows", "pixels"])
def test_batch_targets_the_class_at_the_last_step_only(form):
    task = make_task(form)
    batch = task.sample(np.random.default_rng(3), 7)
    T = digits.FORMS[form][0]
    assert batch.x.shape == (T, 7, task.input_size) and batch.target.shape == (T, 7, 10)
    np.testing.assert_array_equal(batch.mask[:-1], 0.0)
    np.testing.assert_array_equal(batch.mask[-1], 1.0)
    np.testing.assert_array_equal(batch.target[:-1], 0.0)
    np.testing.assert_array_equal(np.argmax(batch.target[-1], axis=-1), batch.info["label"])
    for b, label in enumerate(batch.info["label"]):           # each sequence is a training image
        matches = [i for i in range(task.train_size) if np.array_equal(task.train_x[:, i], batch.x[:, b])]
        assert matches and all(task.train_y[i] == label for i in matches)


def test_accuracy_is_the_last_steps_argmax():
    task = make_task("rows")
    batch = task.batch_of(task.test_x, task.test_y)
    ideal = task.evaluate_outputs(batch, batch.target)
    assert ideal.solved and ideal.metrics["accuracy"] == 1.0 and ideal.metrics["of"] == 20
    wrong = np.roll(batch.target, 1, axis=-1)                 # every class shifted by one
    assert task.evaluate_outputs(batch, wrong).metrics["accuracy"] == 0.0
    half = batch.target.copy()
    half[:-1] = np.roll(half[:-1], 1, axis=-1)                # earlier steps do not count
    half[-1, :10] = np.roll(half[-1, :10], 1, axis=-1)
    assert task.evaluate_outputs(batch, half).metrics["accuracy"] == 0.5


def test_unknown_form_is_refused():
    with pytest.raises(ValueError, match="form must be one of rows, pixels"):
        make_task("columns")


@pytest.mark.parametrize("variant", study.VARIANTS)
def test_the_study_network_fits_the_task(variant):
    import graphrnn as gr
    for form in ("rows", "pixels"):
        task = make_task(form)
        net = gr.loads(study.network_text(variant, task.input_size, 3))
        task.check_net(net)


def test_a_trial_records_the_test_accuracy_per_epoch(monkeypatch):
    """Two epochs of 40 synthetic images (batch 20: four updates), through graphrnn's loop."""
    monkeypatch.setattr(digits, "load_digits_split", lambda: (*synthetic(40, 0), *synthetic(20, 1)))
    rows = study.digits_trial("gru3_cho", "pixels", 0, epochs=2, hidden=3, lr=1e-2, batch=20)
    assert [r["epoch"] for r in rows] == [0, 1, 2]
    assert [r["sequences"] for r in rows] == [0, 40, 80]
    assert all(0.0 <= r["test_accuracy"] <= 1.0 for r in rows)
    # gru3_cho, 1 input, 3 units: IS + S^2 + 3S = 3 + 9 + 9; softmax 3 * 10 + 10
    assert rows[0]["cell_parameters"] == 21 and rows[0]["parameters"] == 21 + 40


def test_report_table_and_picture(tmp_path):
    rows = []
    for variant in ("gru_cho", "gru3"):
        for seed, final in enumerate((0.5, 0.7)):
            for epoch, acc in enumerate((0.1, final)):
                rows.append(dict(variant=variant, form="rows", seed=seed, epoch=epoch, sequences=epoch * 40,
                                 test_accuracy=acc, parameters=100, cell_parameters=60, hidden=3, lr=0.01,
                                 batch=20, seconds=1.0))
    study.write_csv(tmp_path / "accuracy.csv", rows)
    assert study.read_csv(tmp_path / "accuracy.csv") == rows
    study.report(rows, tmp_path)
    table = (tmp_path / "summary.md").read_text()
    assert "| GRU (Dey & Salem) | `gru_cho` | rows | 60 + 40 | 60.0 ± 14.1 % | 2 | 1 |" in table
    assert "| GRU3 (PyTorch) | `gru3` | rows |" in table
    assert (tmp_path / "accuracy.png").stat().st_size > 0


def test_without_scikit_learn_the_study_says_how_to_install_it(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "sklearn", None)         # import sklearn raises ImportError
    assert study.main(["--out", str(tmp_path)]) == 2
    assert 'pip install -e ".[examples]"' in capsys.readouterr().err


def test_resume_keeps_the_trials_finished_with_the_same_settings(tmp_path):
    def trial_rows(variant, seed, epochs, lr=0.01):
        return [dict(variant=variant, form="rows", seed=seed, epoch=e, sequences=40 * e, test_accuracy=0.5,
                     parameters=100, cell_parameters=60, hidden=16, lr=lr, batch=64, seconds=1.0)
                for e in range(epochs + 1)]
    rows = trial_rows("gru", 0, 2) + trial_rows("gru", 1, 1) + trial_rows("gru1", 0, 2, lr=0.1) \
        + trial_rows("gru2", 0, 2)
    study.write_csv(tmp_path / "accuracy.csv", rows)
    args = argparse.Namespace(out=tmp_path, hidden=16, lr=0.01, batch=64, epochs=2, seeds=5,
                              variants=["gru", "gru1"], forms=["rows"])
    kept = study.finished_rows(args)       # seed 1 stopped at epoch 1, gru1 had another lr, gru2 not asked
    assert {(r["variant"], r["seed"]) for r in kept} == {("gru", 0)} and len(kept) == 3

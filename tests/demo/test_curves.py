"""read_training_curves on event files written like rsl_rl 5.5 writes them (torch SummaryWriter)."""

from __future__ import annotations

import json
import math

import pytest

from mimiclab.demo.curves import read_training_curves


def test_reads_the_plotted_tags_with_their_values_and_iterations(tmp_path, tb):
    series = tb.series(12)
    tb.write(tmp_path, series)
    curves = read_training_curves(tmp_path)

    assert curves["iteration"] == list(range(12))
    expected = {t for t in series if t.startswith(("Train/", "Episode_Reward/", "Metrics/", "Episode_Termination/"))}
    assert set(curves) - {"iteration"} == expected
    for tag in ("Loss/value_function", "Perf/total_fps", "Policy/mean_std"):
        assert tag not in curves
    for tag in expected:
        assert len(curves[tag]) == 12
        for i, v in zip(curves["iteration"], curves[tag]):
            if i in series[tag]:
                assert v == pytest.approx(series[tag][i], rel=1e-6, abs=1e-7), (tag, i)
            else:
                assert v is None, (tag, i)
    # no episode had ended at iteration 0: the gap stays a gap, aligned with "iteration"
    assert curves["Train/mean_reward"][0] is None
    assert curves["Train/mean_reward"][5] == pytest.approx(2.0 + 0.8 * 5 + 0.1 * math.sin(5), rel=1e-6)
    assert curves["Metrics/motion/error_body_pos"][0] == pytest.approx(0.25, rel=1e-6)
    json.dumps(curves, allow_nan=False)  # fit for demo.json as is


def test_missing_tags_are_absent_and_time_variant_is_ignored(tmp_path, tb):
    tb.write(tmp_path, {"Train/mean_reward": {3: 1.5, 4: 2.5}, "Train/mean_reward/time": {7: 1.5},
                            "Metrics/motion/error_anchor_pos": {4: 0.2}})
    curves = read_training_curves(tmp_path)
    assert curves == {"iteration": [3, 4], "Train/mean_reward": [1.5, 2.5],
                      "Metrics/motion/error_anchor_pos": [None, pytest.approx(0.2)]}


def test_a_resumed_run_later_write_wins(tmp_path, tb):
    """Two event files in one folder (a resumed run re-logging iterations 3-4): the later one wins."""
    tb.write(tmp_path, {"Train/mean_reward": {i: float(i) for i in range(5)}}, walltime0=1000.0, suffix=".a")
    tb.write(tmp_path, {"Train/mean_reward": {i: 10.0 * i for i in range(3, 7)}}, walltime0=2000.0, suffix=".b")
    curves = read_training_curves(tmp_path)
    assert curves["iteration"] == list(range(7))
    assert curves["Train/mean_reward"] == [0.0, 1.0, 2.0, 30.0, 40.0, 50.0, 60.0]


def test_event_files_in_a_subfolder_are_found(tmp_path, tb):
    tb.write(tmp_path / "run", {"Train/mean_episode_length": {0: 12.0}})
    assert read_training_curves(tmp_path)["Train/mean_episode_length"] == [12.0]


def test_no_event_file_is_a_one_line_error_naming_the_folder(tmp_path):
    (tmp_path / "model_0.pt").write_bytes(b"")
    with pytest.raises(ValueError, match="no TensorBoard event file") as e:
        read_training_curves(tmp_path)
    assert str(tmp_path) in str(e.value) and "\n" not in str(e.value)
    missing = tmp_path / "nope"
    with pytest.raises(ValueError, match="not a folder") as e:
        read_training_curves(missing)
    assert str(missing) in str(e.value)


def test_learning_figures_known_answer():
    from mimiclab.demo.curves import learning_figures

    n = 25
    curves = {"iteration": list(range(n)),
              "Train/mean_episode_length": [None, None] + [10.0] * 10 + [15.0] * 3 + [30.0] * 10,
              "Episode_Reward/a": [None, float("nan")] + [0.1] * 13 + [0.3] * 10,
              "Episode_Reward/b": [0.0, 0.0] + [0.1] * 13 + [0.1] * 10}
    f = learning_figures(curves, ("a", "b"), window=10, skip=0)
    assert f["iterations"] == 23
    assert f["episode_length_first"] == pytest.approx(10.0) and f["episode_length_last"] == pytest.approx(30.0)
    assert f["episode_length_ratio"] == pytest.approx(3.0)
    assert f["tracking_reward_first"] == pytest.approx(0.2) and f["tracking_reward_last"] == pytest.approx(0.4)
    assert f["tracking_reward_ratio"] == pytest.approx(2.0)
    g = learning_figures(curves, ("a", "b"), window=10, skip=3)  # rows 3..12 of 23: 7 × 10.0, 3 × 15.0
    assert g["episode_length_first"] == pytest.approx(11.5) and g["episode_length_last"] == pytest.approx(30.0)
    with pytest.raises(ValueError, match="need at least 20"):
        learning_figures({k: v[:15] for k, v in curves.items()}, ("a", "b"), window=10, skip=0)
    with pytest.raises(ValueError, match="Episode_Reward/c"):
        learning_figures(curves, ("a", "c"))
    zero = {**curves, "Episode_Reward/a": [0.0] * n, "Episode_Reward/b": [0.0] * n}
    assert math.isnan(learning_figures(zero, ("a", "b"), skip=0)["tracking_reward_ratio"])


def test_training_pace_known_answer(tmp_path, tb):
    """Median collection and learning seconds over both run folders (a resumed run) → iterations/min."""
    from mimiclab.demo.curves import training_pace

    first, second = tmp_path / "a", tmp_path / "b"
    tb.write(first, {"Perf/collection_time": {0: 9.0, 1: 1.0, 2: 1.2}, "Perf/learning_time": {0: 0.5, 1: 0.5, 2: 0.4}})
    tb.write(second, {"Perf/collection_time": {3: 1.1, 4: 1.3}, "Perf/learning_time": {3: 0.5, 4: 0.6}})
    pace = training_pace([first, second])
    assert pace["collection_s"] == pytest.approx(1.2) and pace["learning_s"] == pytest.approx(0.5)
    assert pace["iterations_per_minute"] == pytest.approx(60 / 1.7)
    assert pace["iterations_timed"] == 5
    assert training_pace([tmp_path / "empty"]) is None

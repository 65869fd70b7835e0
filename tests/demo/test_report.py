"""write_report on a synthetic finished demo run (tests/demo/conftest.py): self-contained HTML whose
numbers are the run's, figures on disk, failed/skipped stages shown with their reasons."""

from __future__ import annotations

import base64
import html as htmllib
import json
import math
import re

import pytest

from mimiclab.demo import report as rep
from mimiclab.demo.report import write_report

PNG = b"\x89PNG\r\n\x1a\n"


def text(fragment: str) -> str:
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def section(page: str, title: str) -> str:
    """The <section> whose heading starts with `title`."""
    found = [s for s in re.findall(r"<section[^>]*>(.*?)</section>", page, re.S)
             if text(re.search(r"<h2>(.*?)</h2>", s, re.S).group(1)).startswith(title)]
    assert len(found) == 1, f"{len(found)} sections titled {title!r}"
    return found[0]


def row(fragment: str, first: str) -> list[str]:
    """The cells' text of the one table row of `fragment` whose first cell starts with `first`."""
    rows = [[text(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S)]
            for tr in re.findall(r"<tr>(.*?)</tr>", fragment, re.S)]
    found = [r for r in rows if r and r[0].startswith(first)]
    assert len(found) == 1, f"{len(found)} rows start with {first!r}"
    return found[0]


def write(run_dir, demo) -> str:
    (run_dir / "demo.json").write_text(json.dumps(demo))
    path = write_report(run_dir)
    assert path == run_dir / "report.html"
    return path.read_text()


def test_report_is_self_contained_with_figures(demo_run):
    run_dir, _ = demo_run
    page = write_report(run_dir).read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower() and "<link" not in page.lower() and "@import" not in page
    srcs = re.findall(r'\ssrc="([^"]*)"', page)
    assert len(srcs) == 4  # training curves, eval vs sim2sim, sim2sim plot, keyframes
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG)
    assert re.findall(r'\shref="', page) == []
    # the embedded sim2sim plot is the pipeline's file, byte for byte
    plot = base64.b64encode((run_dir / "sim2sim" / "tracking_error.png").read_bytes()).decode()
    assert f"data:image/png;base64,{plot}" in page
    for name in ("training_curves.png", "eval_vs_sim2sim.png"):
        data = (run_dir / "figures" / name).read_bytes()
        assert data.startswith(PNG) and base64.b64encode(data).decode() in page
    assert "could not render" not in page
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]


def test_every_stage_numbers_appear(demo_run):
    run_dir, demo = demo_run
    page = write_report(run_dir).read_text()
    # header
    assert "smoke-scale policy — not converged" in page and "converged-scale run" not in page
    for t in ("cpu-quick", "AMD EPYC 7B13 (2 cores)", "13 min 32 s", "rsl_rl</b> 5.5.1", "isaaclab</b> 3.0.0"):
        assert t in page, t
    # pipeline overview: each stage's time, the cached one marked
    overview = section(page, "Pipeline")
    row_html = re.search(r'<div class="pipeline">(.*?)</div><p class="hint">', overview, re.S).group(1)
    cards = re.split(r'<div class="stage [a-z]+">', row_html)[1:]
    assert [text(c).rstrip("→ ") for c in cards] == ["Retarget ✓ done 12.3 s cached", "Train ✓ done 9 min 02 s",
                                        "Export ✓ done 6.2 s", "Eval (Isaac Lab) ✓ done 1 min 29 s",
                                        "Sim2sim (MuJoCo) ✓ done 2 min 10 s"]
    # retarget table: one row per clip, lengths in mm, fractions in %
    retarget = section(page, "Retargeting quality")
    head = row(retarget, "clip")
    cell = dict(zip(head, row(retarget, "walk")))
    assert cell["keypoint error [mm]"] == "23.4"
    assert cell["root-rel. keypoint error [mm]"] == "18.7"
    assert cell["ground penetration > 1 cm [% frames]"] == "4.2"
    assert cell["max penetration [mm]"] == "13.7"
    assert cell["joint jumps (above velocity limit) [count]"] == "3"
    assert cell["joint speed ≥ 95 % of limit [% frames]"] == "0.5"
    assert cell["foot sliding, left [m/s]"] == "0.021"
    assert cell["foot sliding, right [m/s]"] == "0.019"
    assert cell["duration [s]"] == "4.00"
    wave = dict(zip(head, row(retarget, "video_wave")))
    assert wave["max keypoint error [mm]"] == "—" and wave["duration [s]"] == "5.33"
    # training: run facts and the first/last logged values of the curves
    train = section(page, "Training")
    assert "logs/rsl_rl/g1_tracking/2025-06-01_10-00-00/model_19.pt" in train
    last_reward = demo["stages"]["train"]["curves"]["Train/mean_reward"][-1]
    assert row(train, "mean episode return")[2:4] == [f"{last_reward:,.3f}", "19"]
    assert row(train, "Metrics/motion/error_body_pos")[1:] == ["250.0", f"{250 * math.exp(-19 / 15):.1f}", "19", "mm"]
    assert row(train, "Episode_Termination/time_out")[1:3] == ["50.0", "31.0"]
    # export
    export = text(section(page, "Exported policy"))
    assert "OBSERVATION SIZE 245" in export.upper() and "20 ms (50 Hz)" in export
    # eval | sim2sim | unit, and per-clip success
    cmp = section(page, "Tracking: eval")
    assert row(cmp, "success rate") == ["success rate success_rate", "100.0", "50.0", "%"]
    assert row(cmp, "MPKPE (world)")[1:] == ["85.0", "119.0", "mm"]
    assert row(cmp, "joint velocity error")[1:] == ["0.950", "1.330", "rad/s"]
    assert row(cmp, "end-effector orientation error")[1:] == ["0.210", "0.294", "rad"]
    assert row(cmp, "clips evaluated")[1:] == ["2", "2", "count"]
    assert row(cmp, "walk")[1:] == ["✓ success 4.00 / 4.00 s", "✓ success 4.00 / 4.00 s"]
    assert row(cmp, "video_wave")[1:] == ["✓ success 3.20 / 3.20 s", "✗ failed 1.26 / 3.20 s"]


def test_failed_skipped_and_missing_stages_are_shown_with_their_reasons(demo_run):
    run_dir, demo = demo_run
    st = demo["stages"]
    st["sim2sim"] = {"status": "failed", "seconds": 3.5, "error": "mujoco: joint 'left_hip_pitch' <missing> in MJCF"}
    st["eval"] = {"status": "skipped", "reason": "--skip-eval given"}
    del st["export"]
    st["train"]["resumed_from"] = "logs/rsl_rl/g1_tracking/old/model_10.pt"
    page = write(run_dir, demo)
    assert "could not render" not in page
    overview = section(page, "Pipeline")
    assert "Sim2sim (MuJoCo) ✗ failed 3.5 s mujoco: joint 'left_hip_pitch' <missing> in MJCF" in text(overview)
    assert "&lt;missing&gt;" in overview  # escaped, not markup
    assert "Eval (Isaac Lab) – skipped — --skip-eval given" in text(overview)
    assert "Export ? not run" in text(overview)
    assert '<span class="tag">resumed</span>' in overview
    assert "export: not run — the pipeline did not record this stage" in text(section(page, "Exported policy"))
    cmp = text(section(page, "Tracking: eval"))
    assert "eval: skipped — --skip-eval given" in cmp
    assert "sim2sim: failed — mujoco: joint 'left_hip_pitch' <missing> in MJCF" in cmp
    assert "sim2sim: failed" in text(section(page, "Sim2sim in MuJoCo"))
    assert not (run_dir / "figures" / "eval_vs_sim2sim.png").exists()
    # the stages that did run still show their numbers
    assert row(section(page, "Retargeting quality"), "walk")[0] == "walk"
    assert (run_dir / "figures" / "training_curves.png").is_file()


def test_one_side_of_the_comparison_is_enough(demo_run):
    run_dir, demo = demo_run
    demo["stages"]["sim2sim"] = {"status": "failed", "error": "boom"}
    page = write(run_dir, demo)
    cmp = section(page, "Tracking: eval")
    assert row(cmp, "MPKPE (world)")[1:] == ["85.0", "—", "mm"]
    assert row(cmp, "video_wave")[1:] == ["✓ success 3.20 / 3.20 s", "—"]
    assert (run_dir / "figures" / "eval_vs_sim2sim.png").is_file()


def test_converged_badge(make_run):
    run_dir, _ = make_run(smoke_scale=False)
    page = write_report(run_dir).read_text()
    assert "converged-scale run" in page and "not converged" not in page


def test_curves_are_read_from_the_log_dir_when_demo_json_has_none(make_run):
    run_dir, demo = make_run(curves_inline=False)
    assert "curves" not in demo["stages"]["train"]
    page = write_report(run_dir).read_text()
    train = section(page, "Training")
    assert (run_dir / "figures" / "training_curves.png").is_file()
    assert row(train, "mean episode length")[1:] == ["24.000", "96.000", "19", "control steps"]
    # no curves and no event file: said plainly, the rest still there
    demo["stages"]["train"]["log_dir"] = "logs/nothing_here"
    (run_dir / "logs" / "nothing_here").mkdir()
    page = write(run_dir, demo)
    assert "No training curves: training curves: no TensorBoard event file" in text(section(page, "Training"))
    assert row(section(page, "Tracking: eval"), "MPKPE (world)")[1:] == ["85.0", "119.0", "mm"]


def test_video_inline_under_the_limit_else_linked(demo_run, monkeypatch):
    run_dir, demo = demo_run
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4
    (run_dir / "sim2sim" / "walk.mp4").write_bytes(video)
    demo["stages"]["sim2sim"]["video"] = "sim2sim/walk.mp4"
    page = write(run_dir, demo)
    m = re.search(r'<video controls[^>]* src="data:video/mp4;base64,([^"]+)"', page)
    assert m and base64.b64decode(m.group(1)) == video
    monkeypatch.setattr(rep, "VIDEO_INLINE_LIMIT", len(video) - 1)
    page = write(run_dir, demo)
    assert "<video" not in page
    assert re.findall(r'href="([^"]*)"', page) == ["sim2sim/walk.mp4"]
    # a named but missing file is said, not crashed on
    demo["stages"]["sim2sim"].update(video="sim2sim/gone.mp4", keyframes=None, plot="sim2sim/gone.png")
    media = text(section(write(run_dir, demo), "Sim2sim in MuJoCo"))
    assert "tracking-error plot sim2sim/gone.png not found" in media and "(sim2sim/gone.mp4 not found)" in media


def test_malformed_section_is_reported_in_place(demo_run):
    run_dir, demo = demo_run
    demo["stages"]["retarget"]["clips"] = ["walk"]  # not a dict
    page = write(run_dir, demo)
    assert "could not render this section: AttributeError" in text(section(page, "Retargeting quality"))
    assert row(section(page, "Tracking: eval"), "MPKPE (world)")[1:] == ["85.0", "119.0", "mm"]


def test_no_demo_json_is_a_one_line_value_error(tmp_path):
    with pytest.raises(ValueError, match="demo.json does not exist") as e:
        write_report(tmp_path)
    assert "\n" not in str(e.value)
    (tmp_path / "demo.json").write_text("{not json")
    with pytest.raises(ValueError, match="not readable JSON"):
        write_report(tmp_path)
    assert not (tmp_path / "report.html").exists()


def test_every_training_panel_has_a_title_and_a_unit(demo_run):
    from mimiclab.demo.figures import training_panels

    _, demo = demo_run
    panels = training_panels(demo["stages"]["train"]["curves"], control_dt=0.02)
    assert len(panels) == 10  # return, length, 2 reward groups, 5 command metrics, terminations
    for p in panels:
        assert p["title"]
        assert re.search(r"\[[^\]]+\]$", p["ylabel"]), p["ylabel"]
    length = next(p for p in panels if p["title"] == "Mean episode length")
    assert length["ylabel"] == "episode length [s]" and length["lines"][0][2][0] == pytest.approx(24 * 0.02)

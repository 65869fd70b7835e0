"""``DIR/report.html``: one self-contained page that shows what a ``mimiclab demo`` run produced.

    from mimiclab.demo.report import write_report
    write_report("demo_out")        # reads demo_out/demo.json → demo_out/report.html (+ figures/*.png)

The page reads only ``demo.json`` (the pipeline's record, paths in it relative to the run folder)
and the files it names: the sim2sim tracking-error plot, the video or keyframe strip, and the
training event files when ``demo.json`` carries no curves. Images are inline base64 PNG, the video
inline base64 MP4 below ``VIDEO_INLINE_LIMIT`` (else a relative link), the CSS inline: no external
URL, no script. The figures it makes are also written to ``DIR/figures/``. A stage that failed,
was skipped or is missing is shown as such with its reason; a section whose data is malformed says
so in place — the report is always written.

Run by hand: ``python -m mimiclab.demo.report DIR``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
import os
import sys
from pathlib import Path

from mimiclab.demo.figures import COMMAND_METRICS, DISPLAY, EVAL_METRICS, plot_metric_comparison, plot_training_curves

STAGES = ("retarget", "train", "export", "eval", "sim2sim")
STAGE_TITLES = {"retarget": "Retarget", "train": "Train", "export": "Export", "eval": "Eval (Isaac Lab)",
                "sim2sim": "Sim2sim (MuJoCo)"}
VIDEO_INLINE_LIMIT = 30 * 1024 * 1024  # bytes
FIGURES_DIR = "figures"
REPORT_FILE = "report.html"
IMAGE_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
              ".webp": "image/webp"}
VIDEO_MIME = {".mp4": "video/mp4", ".webm": "video/webm"}

# Retarget quality columns: (keys, accepted in order), header, unit stored → shown via DISPLAY, decimals.
RETARGET_COLUMNS = (
    (("frames",), "frames", "", 0),
    (("fps",), "fps", "Hz", 0),
    (("keypoint_error_mean_m", "keypoint_pos_error_m"), "keypoint error", "m", 1),
    (("keypoint_error_root_relative_mean_m", "keypoint_root_relative_error_m"), "root-rel. keypoint error", "m", 1),
    (("keypoint_error_max_m",), "max keypoint error", "m", 1),
    (("joint_limit_violation_frames",), "joint-limit violation", "fraction", 1),
    (("penetration_frames",), "ground penetration > 1 cm", "fraction", 1),
    (("penetration_max_depth_m",), "max penetration", "m", 1),
    (("self_collision_frames",), "self-collision", "fraction", 1),
    (("joint_jumps",), "joint jumps (above velocity limit)", "count", 0),
    (("joint_speed_saturation_frames",), "joint speed ≥ 95 % of limit", "fraction", 1),
    (("twisted_frames",), "twisted limbs", "fraction", 1),
    (("max_joint_step_rad",), "max joint step", "rad", 3),
    (("jerk_mean_rad_s3",), "mean jerk", "rad/s³", 0),
    (("contact_frames",), "foot contact", "fraction", 1),
    (("foot_sliding_left_m_s",), "foot sliding, left", "m/s", 3),
    (("foot_sliding_right_m_s",), "foot sliding, right", "m/s", 3),
)
RETARGET_UNIT_NOTES = {"fraction": "% frames", "count": "count", "rad": "rad/frame"}

EVAL_DECIMALS = {"mm": 1, "%": 1, "rad": 3, "rad/s": 3, "m/s": 3}
EVAL_METRICS_UNITS = {m: u for m, (_, u) in EVAL_METRICS.items()}


class ReportError(ValueError):
    """No report can be made (one-line message): no or unreadable demo.json."""


# -- formatting ------------------------------------------------------------------------------------

def esc(x) -> str:
    return html.escape(str(x), quote=True)


def _num(v) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(v) else None


def fmt(v, unit: str = "", decimals: int | None = None) -> str:
    """A stored value in its display unit (``figures.DISPLAY``), without the unit; ``—`` if none."""
    x = _num(v)
    if x is None:
        return "—"
    shown, factor = DISPLAY.get(unit, (unit, 1.0))
    x *= factor
    if decimals is None:
        decimals = EVAL_DECIMALS.get(shown, 3)
    return f"{x:,.{decimals}f}"


def shown_unit(unit: str) -> str:
    return DISPLAY.get(unit, (unit, 1.0))[0]


def fmt_seconds(s) -> str:
    x = _num(s)
    if x is None:
        return "—"
    if x < 60:
        return f"{x:.1f} s"
    m, sec = divmod(int(round(x)), 60)
    if m < 60:
        return f"{m} min {sec:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def _when(iso) -> str:
    """An ISO time as 'YYYY-MM-DD HH:MM:SS ±HH:MM' (as given when it does not parse)."""
    try:
        t = _dt.datetime.fromisoformat(str(iso))
    except ValueError:
        return "—" if iso is None else str(iso)
    return t.strftime("%Y-%m-%d %H:%M:%S") + (f" {t.strftime('%z')[:3]}:{t.strftime('%z')[3:]}" if t.tzinfo else "")


# -- inputs ----------------------------------------------------------------------------------------

def load_demo(run_dir: str | os.PathLike) -> dict:
    path = Path(run_dir) / "demo.json"
    if not path.is_file():
        raise ReportError(f"report: {path} does not exist (run `mimiclab demo -o {run_dir}` first)")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ReportError(f"report: {path} is not readable JSON ({e})") from e
    if not isinstance(data, dict):
        raise ReportError(f"report: {path} is not a JSON object")
    return data


def _stage(demo: dict, name: str) -> dict:
    st = (demo.get("stages") or {}).get(name)
    return st if isinstance(st, dict) else {"status": "not run", "reason": "the pipeline did not record this stage"}


def _done(st: dict) -> bool:
    return st.get("status") == "done"


def _file(run_dir: Path, rel) -> Path | None:
    if not rel or not isinstance(rel, str):
        return None
    p = Path(rel)
    p = p if p.is_absolute() else run_dir / p
    return p if p.is_file() else None


def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _img(path: Path, alt: str, cls: str = "fig") -> str:
    mime = IMAGE_MIME.get(path.suffix.lower(), "image/png")
    return f'<img class="{cls}" alt="{esc(alt)}" src="{_data_uri(path, mime)}">'


def _metrics(run_dir: Path, st: dict) -> dict | None:
    m = st.get("metrics")
    if isinstance(m, str):  # a path to the metrics JSON instead of the JSON itself
        p = _file(run_dir, m)
        m = json.loads(p.read_text()) if p else None
    return m if isinstance(m, dict) else None


# -- sections --------------------------------------------------------------------------------------

def _status_box(st: dict, what: str) -> str:
    status = str(st.get("status", "unknown"))
    why = st.get("error") or st.get("reason") or ""
    label = {"failed": "failed", "skipped": "skipped", "not run": "not run"}.get(status, status)
    return (f'<div class="notice {esc(_status_class(status))}"><strong>{esc(what)}: {esc(label)}</strong>'
            + (f" — {esc(why)}" if why else "") + "</div>")


def _status_class(status: str) -> str:
    return {"done": "ok", "failed": "bad", "skipped": "muted", "not run": "muted"}.get(status, "warn")


def section_header(demo: dict) -> str:
    smoke = demo.get("smoke_scale")
    if smoke is True:
        badge = '<span class="badge smoke">smoke-scale policy — not converged</span>'
    elif smoke is False:
        badge = '<span class="badge converged">converged-scale run</span>'
    else:
        badge = '<span class="badge unknown">policy scale not recorded</span>'
    machine = demo.get("machine") or {}
    gpu = machine.get("gpu") or "none"
    facts = [("preset", demo.get("preset", "—")), ("device", demo.get("device", "—")),
             ("CPU", f"{machine.get('cpu', '—')} ({machine.get('cores', '?')} cores)"), ("GPU", gpu),
             ("started", _when(demo.get("started"))), ("total time", fmt_seconds(demo.get("seconds")))]
    facts_html = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in facts)
    versions = demo.get("versions") or {}
    vers = "".join(f'<span class="chip"><b>{esc(k)}</b> {esc(v)}</span>' for k, v in versions.items())
    note = ("This run used a few training iterations to show the whole pipeline working; its policy "
            "is not expected to track the motions well. Run the <code>gpu-full</code> preset for a real policy."
            if smoke is True else "")
    return (f'<header><div class="title"><h1>mimiclab demo report</h1>{badge}</div>'
            f'<p class="sub">Human motion → retargeted G1 motion → tracking policy → exported ONNX → '
            f'validated in a second simulator.</p>'
            f'<dl class="facts">{facts_html}</dl>'
            + (f'<div class="versions">{vers}</div>' if vers else "")
            + (f'<p class="smoke-note">{note}</p>' if note else "") + "</header>")


def section_overview(demo: dict) -> str:
    cards = []
    for i, name in enumerate(STAGES):
        st = _stage(demo, name)
        status = str(st.get("status", "unknown"))
        icon = {"done": "✓", "failed": "✗", "skipped": "–"}.get(status, "?")
        extra = []
        if st.get("cached"):
            extra.append('<span class="tag">cached</span>')
        if name == "train" and st.get("resumed_from"):
            extra.append('<span class="tag">resumed</span>')
        why = st.get("error") or st.get("reason")
        cards.append(
            f'<div class="stage {_status_class(status)}"><div class="sname">{esc(STAGE_TITLES[name])}</div>'
            f'<div class="sstatus">{icon} {esc(status)}</div>'
            f'<div class="stime">{esc(fmt_seconds(st.get("seconds")))}</div>'
            + "".join(extra) + (f'<div class="swhy">{esc(why)}</div>' if why and status != "done" else "")
            + "</div>")
        if i < len(STAGES) - 1:
            cards.append('<div class="arrow">→</div>')
    return ('<section><h2>Pipeline</h2><div class="pipeline">' + "".join(cards) + "</div>"
            '<p class="hint">Time is wall time of each stage in this invocation; a <em>cached</em> stage was '
            "reused from an earlier run with the same inputs (its time is that of the reuse).</p></section>")


def section_retarget(demo: dict) -> str:
    st = _stage(demo, "retarget")
    head = "<section><h2>Retargeting quality</h2>"
    if not _done(st):
        return head + _status_box(st, "retarget") + "</section>"
    clips = st.get("clips") or {}
    if not clips:
        return head + '<p class="hint">No clips recorded.</p></section>'
    present = [c for c in RETARGET_COLUMNS if any(isinstance(q, dict) and any(k in q for k in c[0])
                                                 for q in clips.values())]
    known = {k for c in RETARGET_COLUMNS for k in c[0]}
    extra = sorted({k for q in clips.values() if isinstance(q, dict) for k, v in q.items()
                    if k not in known and _num(v) is not None})

    def header(label, unit):
        u = RETARGET_UNIT_NOTES.get(unit, shown_unit(unit))
        return f"<th>{esc(label)}" + (f'<br><span class="unit">[{esc(u)}]</span>' if u else "") + "</th>"

    ths = "<th>clip</th>" + '<th>duration<br><span class="unit">[s]</span></th>' + "".join(
        header(c[1], c[2]) for c in present) + "".join(header(k, "") for k in extra)
    rows = []
    for name, q in clips.items():
        if not isinstance(q, dict) or q.get("error") or q.get("status") == "failed":
            err = q.get("error", "failed") if isinstance(q, dict) else q
            rows.append(f'<tr><td class="clip">{esc(name)}</td><td colspan="{1 + len(present) + len(extra)}" '
                        f'class="bad">failed: {esc(err)}</td></tr>')
            continue
        frames, fps = _num(q.get("frames")), _num(q.get("fps"))
        dur = frames / fps if frames and fps else None
        cells = [f"<td>{fmt(dur, 's', 2)}</td>"]
        for keys, _, unit, dec in present:
            v = next((q[k] for k in keys if k in q), None)
            cells.append(f"<td>{fmt(v, unit, dec)}</td>")
        cells += [f"<td>{fmt(q.get(k), '', 3)}</td>" for k in extra]
        rows.append(f'<tr><td class="clip">{esc(name)}</td>' + "".join(cells) + "</tr>")
    meta = f'<p class="hint">{len(clips)} clip(s); {fmt_seconds(st.get("seconds"))}' + \
        (" (cached)" if st.get("cached") else "") + ".</p>"
    return (head + meta + f'<div class="scroll"><table class="num dense"><thead><tr>{ths}</tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></div></section>")


CURVE_LABELS = {"Train/mean_reward": ("mean episode return", ""),
                "Train/mean_episode_length": ("mean episode length", "control steps")}


def _curve_label(tag: str) -> tuple[str, str, str]:
    """(label, stored unit, shown unit) of a training-curve tag."""
    if tag in CURVE_LABELS:
        label, unit = CURVE_LABELS[tag]
        return label, unit, unit
    name = tag.rsplit("/", 1)[-1]
    if tag.startswith("Metrics/"):
        label, unit = COMMAND_METRICS.get(name, (name, ""))
        return tag, unit, ("normalised" if unit == "entropy" else shown_unit(unit))
    if tag.startswith("Episode_Reward/"):
        return tag, "", "1/s (episode sum ÷ max episode length)"
    if tag.startswith("Episode_Termination/"):
        return tag, "1", "% of envs"
    return tag, "", ""


def section_train(demo: dict, run_dir: Path, figures: Path) -> tuple[str, Path | None]:
    st = _stage(demo, "train")
    head = "<section><h2>Training</h2>"
    if not _done(st):
        return head + _status_box(st, "train") + "</section>", None
    planned, budget = st.get("iterations_planned"), st.get("time_budget_s")
    iterations = st.get("iterations", "—")
    if budget is not None and planned is not None:
        iterations = f"{iterations} of {planned} (those that fitted a {budget:g} s budget)"
    facts = [("envs", st.get("num_envs", "—")), ("iterations", iterations),
             ("time", fmt_seconds(st.get("seconds")) + (" (cached)" if st.get("cached") else "")),
             ("resumed from", st.get("resumed_from") or "— (fresh run)"),
             ("checkpoint", st.get("checkpoint", "—")), ("log folder", st.get("log_dir", "—"))]
    pace = st.get("pace")
    if isinstance(pace, dict) and _num(pace.get("iterations_per_minute")) is not None:
        facts.insert(2, ("pace", f"{pace['iterations_per_minute']:.1f} PPO iterations/min (median per iteration: "
                                 f"experience collection {pace['collection_s']:.2f} s + learning "
                                 f"{pace['learning_s']:.2f} s; physics {st.get('physics', '—')}; the README's "
                                 f"Fast CPU physics section compares the physics presets)"))
    learning = st.get("learning")
    if isinstance(learning, dict) and _num(learning.get("episode_length_ratio")) is not None:
        w, k = learning.get("window", ""), learning.get("skip", 0)
        facts.insert(2, ("learning", f"episode length {learning['episode_length_first']:.1f} → "
                                     f"{learning['episode_length_last']:.1f} control steps "
                                     f"(×{learning['episode_length_ratio']:.2f}); tracking reward "
                                     f"{learning['tracking_reward_first']:.3f} → {learning['tracking_reward_last']:.3f}"
                                     f" 1/s (means of {w} iterations after the first {k} and of the last {w})"))
    out = [head, '<dl class="facts small">' + "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>"
                                                      for k, v in facts) + "</dl>"]
    curves = st.get("curves")
    if not isinstance(curves, dict) or len(curves) <= 1:
        curves = None
        log_dir = st.get("log_dir")
        if log_dir:
            from mimiclab.demo.curves import read_training_curves

            try:
                curves = read_training_curves(run_dir / log_dir)
            except ValueError as e:
                out.append(f'<div class="notice warn">No training curves: {esc(e)}</div>')
    fig = None
    if curves:
        control_dt = _num(_stage(demo, "export").get("control_dt"))
        fig = plot_training_curves(curves, figures / "training_curves.png", control_dt=control_dt)
    if fig is not None:
        out.append('<figure>' + _img(fig, "training curves") + '<figcaption>Training curves vs PPO iteration '
                   '(one iteration = one rollout of every env followed by a policy update). Lengths in mm, '
                   "angles in rad; reward terms are each term's episode sum divided by the maximum episode "
                   "length in seconds.</figcaption></figure>")
        its = curves.get("iteration") or []
        rows = []
        for tag, vals in curves.items():
            if tag == "iteration":
                continue
            pts = [(i, v) for i, v in zip(its, vals) if _num(v) is not None]
            if not pts:
                continue
            label, unit, shown = _curve_label(tag)
            dec = None if unit in DISPLAY else 3
            rows.append(f"<tr><td class=\"clip\">{esc(label)}</td><td>{fmt(pts[0][1], unit, dec)}</td>"
                        f"<td>{fmt(pts[-1][1], unit, dec)}</td><td>{esc(pts[-1][0])}</td>"
                        f'<td class="unit">{esc(shown)}</td></tr>')
        if rows:
            out.append('<details><summary>First and last logged values</summary><table class="num"><thead><tr>'
                       "<th>curve</th><th>first</th><th>last</th><th>last iteration</th><th>unit</th></tr></thead>"
                       "<tbody>" + "".join(rows) + "</tbody></table></details>")
    elif curves is not None or st.get("curves") is not None:
        out.append('<div class="notice warn">The training run logged no plottable curve yet.</div>')
    return "".join(out) + "</section>", fig


def section_export(demo: dict) -> str:
    st = _stage(demo, "export")
    head = "<section><h2>Exported policy</h2>"
    if not _done(st):
        return head + _status_box(st, "export") + "</section>"
    dt = _num(st.get("control_dt"))
    facts = [("policy folder", st.get("policy_dir", "—")), ("observation size", st.get("observation_dim", "—")),
             ("actions (joints)", st.get("num_actions", "—")),
             ("control period", f"{dt * 1e3:.0f} ms ({1 / dt:.0f} Hz)" if dt else "—"),
             ("time", fmt_seconds(st.get("seconds")) + (" (cached)" if st.get("cached") else ""))]
    return (head + '<dl class="facts small">' + "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>"
                                                        for k, v in facts) + "</dl>"
            '<p class="hint">The policy folder holds <code>policy.onnx</code> and <code>contract.json</code> '
            "(joint order, gains, observation layout): everything a deployment — or the sim2sim check "
            "below — needs.</p></section>")


def section_compare(demo: dict, run_dir: Path, figures: Path) -> tuple[str, Path | None]:
    head = "<section><h2>Tracking: eval (Isaac Lab) vs sim2sim (MuJoCo)</h2>"
    sts = {"eval": _stage(demo, "eval"), "sim2sim": _stage(demo, "sim2sim")}
    reps = {k: (_metrics(run_dir, st) if _done(st) else None) for k, st in sts.items()}
    out = [head] + [_status_box(st, k) for k, st in sts.items() if not _done(st)]
    for k, st in sts.items():
        if _done(st) and reps[k] is None:
            out.append(f'<div class="notice warn">{esc(k)}: done but recorded no metrics</div>')
    if not any(reps.values()):
        return "".join(out) + "</section>", None
    ev, s2 = reps["eval"] or {}, reps["sim2sim"] or {}
    units = {**EVAL_METRICS_UNITS, **(ev.get("units") or {}), **(s2.get("units") or {})}
    rows = []
    for m, (label, _) in EVAL_METRICS.items():
        a, b = (ev.get("overall") or {}).get(m), (s2.get("overall") or {}).get(m)
        if a is None and b is None:
            continue
        u = units.get(m, "")
        rows.append(f'<tr><td class="clip">{esc(label)} <span class="key">{esc(m)}</span></td>'
                    f"<td>{fmt(a, u)}</td><td>{fmt(b, u)}</td><td class=\"unit\">{esc(shown_unit(u))}</td></tr>")
    n = {k: (r.get("overall") or {}).get("num_clips") for k, r in (("eval", ev), ("sim2sim", s2))}
    out.append('<div class="cols"><div><h3>Overall (mean over clips)</h3><table class="num cmp"><thead><tr>'
               '<th>metric</th><th class="ev">eval</th><th class="s2">sim2sim</th><th>unit</th></tr></thead><tbody>'
               + "".join(rows) + f'<tr><td class="clip">clips evaluated</td><td>{esc(n["eval"] or "—")}</td>'
               f'<td>{esc(n["sim2sim"] or "—")}</td><td class="unit">count</td></tr></tbody></table></div>')
    clips = list(dict.fromkeys(list((ev.get("clips") or {})) + list((s2.get("clips") or {}))))

    def cell(rep, name):
        c = (rep.get("clips") or {}).get(name)
        if not isinstance(c, dict):
            return "<td>—</td>"
        ok = c.get("success")
        tracked, dur = _num(c.get("tracked_s")), _num(c.get("duration_s"))
        span = f" <span class=\"unit\">{tracked:.2f} / {dur:.2f} s</span>" if tracked is not None and dur else ""
        mark = '<span class="okc">✓ success</span>' if ok else '<span class="badc">✗ failed</span>'
        return f"<td>{mark}{span}</td>"

    srows = "".join(f'<tr><td class="clip">{esc(c)}</td>{cell(ev, c)}{cell(s2, c)}</tr>' for c in clips)
    out.append('<div><h3>Per clip: success and time tracked</h3><table class="num cmp"><thead><tr><th>clip</th>'
               '<th class="ev">eval</th><th class="s2">sim2sim</th></tr></thead><tbody>' + srows
               + "</tbody></table><p class=\"hint\">time tracked / clip duration; success = the clip reached "
               "its end with no termination.</p></div></div>")
    fig = plot_metric_comparison(reps["eval"], reps["sim2sim"], figures / "eval_vs_sim2sim.png")
    if fig is not None:
        out.append("<figure>" + _img(fig, "eval vs sim2sim metrics") + "<figcaption>Each panel is one metric; "
                   "per clip and overall (bold), blue = eval in Isaac Lab, orange = sim2sim in MuJoCo. "
                   "Lengths in mm, angles in rad.</figcaption></figure>")
    return "".join(out) + "</section>", fig


def section_sim2sim_media(demo: dict, run_dir: Path) -> str:
    st = _stage(demo, "sim2sim")
    out = ["<section><h2>Sim2sim in MuJoCo</h2>"]
    if not _done(st):
        return out[0] + _status_box(st, "sim2sim") + "</section>"
    plot = _file(run_dir, st.get("plot"))
    if plot:
        out.append("<h3>Tracking error over time</h3><figure>" + _img(plot, "sim2sim tracking error")
                   + f"<figcaption>Made by the sim2sim stage ({esc(st.get('plot'))}).</figcaption></figure>")
    elif st.get("plot"):
        out.append(f'<div class="notice warn">tracking-error plot {esc(st.get("plot"))} not found</div>')
    video = _file(run_dir, st.get("video"))
    if video:
        size = video.stat().st_size
        mime = VIDEO_MIME.get(video.suffix.lower(), "video/mp4")
        if size <= VIDEO_INLINE_LIMIT:
            out.append(f'<h3>Video</h3><video controls muted loop playsinline src="{_data_uri(video, mime)}">'
                       "</video>")
        else:
            out.append(f'<h3>Video</h3><p><a href="{esc(st.get("video"))}">{esc(st.get("video"))}</a> '
                       f"({size / 2**20:.0f} MB: too large to embed; linked next to this report).</p>")
    keys = _file(run_dir, st.get("keyframes"))
    if keys:
        out.append("<h3>Keyframes</h3><figure>" + _img(keys, "sim2sim keyframes", "fig wide")
                   + "<figcaption>Robot (MuJoCo) at evenly spaced times of the clip.</figcaption></figure>")
    if not video and not keys:
        out.append('<p class="hint">No video or keyframe strip was recorded'
                   + (f' ({esc(st.get("video"))} not found)' if st.get("video") else "") + ".</p>")
    return "".join(out) + "</section>"


HOW_TO_READ = """
<section class="howto"><h2>How to read this report</h2>
<h3>Smoke-scale vs converged</h3>
<p>The badge at the top says which kind of run this is. A <b>smoke-scale</b> run (the <code>cpu-quick</code>
preset) trains for a few iterations with a handful of envs: it proves every stage works end to end on this
machine, and its numbers are <em>real</em> but belong to an untrained policy — expect falls and large errors.
A <b>converged-scale</b> run (<code>gpu-full</code>) trains with thousands of envs for thousands of iterations.</p>
<h3>Retargeting quality</h3>
<dl class="defs">
<dt>keypoint error</dt><dd>distance between each human keypoint target and the same point on the G1 (mean
over keypoints and frames); root-relative subtracts the pelvis on both sides, so it ignores global drift.</dd>
<dt>joint-limit violation, ground penetration, self-collision</dt><dd>share of frames with any joint outside
its limits, a foot more than 1 cm below the ground, or two robot links in collision. Ideally 0 %.</dd>
<dt>joint jumps, max joint step, jerk</dt><dd>smoothness: frames where a joint moves faster than the G1 can
(0.4 rad per 50 Hz frame), the largest frame-to-frame change, and the mean |d³q/dt³|.</dd>
<dt>foot sliding</dt><dd>horizontal toe speed while the human foot is planted; "before correction" is the
same before the contact clean-up.</dd></dl>
<h3>Training curves</h3>
<p>Return and episode length should rise and the tracking errors (logged by the motion command at the end of
each episode) should fall. Episodes end when a clip ends, at the time limit, or when the robot drifts too far
from the reference (a fall) — "How episodes ended" shows which.</p>
<h3>Tracking metrics (eval and sim2sim)</h3>
<dl class="defs">
<dt>success</dt><dd>the clip was tracked from its first frame to its end with no termination.</dd>
<dt>MPKPE</dt><dd>mean per-keypoint position error: mean distance between the reference and the robot over the
14 tracked bodies, in the world frame (includes global drift); <em>root-relative</em> subtracts each side's pelvis.</dd>
<dt>joint position / velocity error</dt><dd>mean over the 29 joints of |q<sub>ref</sub> − q| and |q̇<sub>ref</sub> − q̇|.</dd>
<dt>end-effector position / orientation error</dt><dd>ankles and wrists: distance and rotation angle to the reference.</dd>
</dl>
<p>All errors are averaged over the control steps the robot tracked, then over clips. A clip that fell early
is averaged only over the steps before the fall, so read errors together with success.</p>
<h3>Why eval and sim2sim differ</h3>
<p>Both columns run the <b>same trained policy</b> on the same clips; only the simulator changes. Eval runs in
Isaac Lab, the simulator it was trained in. Sim2sim runs only the exported artifact (<code>policy.onnx</code> +
<code>contract.json</code>) in MuJoCo, with its own contact model, solver and actuator implementation. The gap
between the two columns measures how much the policy depends on details of its training simulator — a small gap
is the evidence that the exported policy, and not an artifact of one simulator, does the tracking, and is the
first check before trying it on hardware.</p>
</section>
"""

CSS = """
:root{--ink:#1f2328;--muted:#656d76;--line:#d8dee4;--bg:#f6f8fa;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;
--ev:#3b6fb6;--s2:#e08a2c}
*{box-sizing:border-box}
body{margin:0;background:#fff;color:var(--ink);font:15px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:28px 32px 60px}
h1{font-size:28px;margin:0}
h2{font-size:20px;margin:0 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:18px 0 8px}
section{margin:34px 0}
header .title{display:flex;align-items:center;gap:16px;flex-wrap:wrap}
.sub{color:var(--muted);margin:6px 0 14px}
.badge{display:inline-block;padding:5px 14px;border-radius:999px;font-weight:600;font-size:14px}
.badge.smoke{background:#fff1c2;color:#7a4f00;border:1px solid #e3b341}
.badge.converged{background:#dafbe1;color:var(--ok);border:1px solid #4ac26b}
.badge.unknown{background:var(--bg);color:var(--muted);border:1px solid var(--line)}
.smoke-note{background:#fff8e1;border-left:4px solid #e3b341;padding:8px 12px;margin:12px 0 0}
dl.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:8px 18px;margin:0}
dl.facts div{background:var(--bg);border-radius:6px;padding:7px 10px}
dl.facts dt{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
dl.facts dd{margin:0;font-weight:600;word-break:break-word}
dl.facts.small dd{font-weight:500;font-size:14px}
.versions{margin-top:10px;display:flex;flex-wrap:wrap;gap:6px}
.chip{font-size:12.5px;background:#fff;border:1px solid var(--line);border-radius:5px;padding:2px 8px;color:var(--muted)}
.chip b{color:var(--ink);font-weight:600}
.pipeline{display:flex;align-items:stretch;gap:6px;flex-wrap:wrap}
.stage{flex:1 1 150px;border:1px solid var(--line);border-top:4px solid var(--muted);border-radius:6px;padding:9px 12px;background:#fff}
.stage.ok{border-top-color:var(--ok)}.stage.bad{border-top-color:var(--bad);background:#fff5f5}
.stage.warn{border-top-color:var(--warn)}.stage.muted{border-top-color:#adb5bd;background:var(--bg)}
.sname{font-weight:700}.sstatus{font-size:14px}.stage.ok .sstatus{color:var(--ok)}.stage.bad .sstatus{color:var(--bad)}
.stime{font-variant-numeric:tabular-nums;color:var(--muted);font-size:14px}
.swhy{font-size:12.5px;color:var(--muted);margin-top:4px;word-break:break-word}
.stage.bad .swhy{color:var(--bad)}
.tag{display:inline-block;font-size:11.5px;background:#ddf4ff;color:#0550ae;border-radius:4px;padding:0 6px;margin:3px 4px 0 0}
.arrow{align-self:center;color:#adb5bd;font-size:20px}
.hint{color:var(--muted);font-size:13.5px}
.notice{border-radius:6px;padding:9px 12px;margin:8px 0;border:1px solid var(--line);background:var(--bg)}
.notice.bad{border-color:#ffb3b8;background:#fff5f5;color:#82071e}
.notice.warn{border-color:#e3b341;background:#fff8e1}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:13.5px}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:right;vertical-align:top}
th{background:var(--bg);font-weight:600;font-size:12.5px;line-height:1.3}
th:first-child,td.clip{text-align:left}
td{font-variant-numeric:tabular-nums;white-space:nowrap}
td.bad{color:var(--bad);text-align:left}
table.dense th,table.dense td{padding:6px 6px}table.dense{font-size:13px}
.unit{color:var(--muted);font-weight:400}
.key{color:var(--muted);font-size:11.5px;font-family:ui-monospace,Menlo,Consolas,monospace}
th.ev{color:var(--ev)}th.s2{color:var(--s2)}
.okc{color:var(--ok);font-weight:600}.badc{color:var(--bad);font-weight:600}
.cols{display:grid;grid-template-columns:minmax(0,1.15fr) minmax(0,1fr);gap:28px}
@media (max-width:900px){.cols{grid-template-columns:1fr}}
figure{margin:14px 0}
img.fig{max-width:100%;height:auto;border:1px solid var(--line);border-radius:6px}
figcaption{color:var(--muted);font-size:13px;margin-top:4px}
video{max-width:100%;border-radius:6px;border:1px solid var(--line);background:#000}
details{margin-top:10px}summary{cursor:pointer;color:var(--muted)}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;background:var(--bg);padding:1px 4px;border-radius:4px}
.howto p,.howto dd{max-width:880px}
dl.defs dt{font-weight:600;margin-top:8px}dl.defs dd{margin:2px 0 0 18px;color:#3d444d}
footer{color:var(--muted);font-size:12.5px;border-top:1px solid var(--line);padding-top:10px;margin-top:40px}
"""


def _guarded(title: str, build, *args):
    """Run one section builder; malformed data in one section must not lose the whole report."""
    try:
        return build(*args)
    except Exception as e:  # noqa: BLE001 - shown in place, plainly
        return f'<section><h2>{esc(title)}</h2><div class="notice bad">could not render this section: ' \
               f'{esc(type(e).__name__)}: {esc(e)}</div></section>'


def render_report(run_dir: str | os.PathLike, demo: dict | None = None) -> str:
    """The report's HTML for `run_dir` (its demo.json unless `demo` is given); writes the figures to
    ``run_dir/figures/``."""
    run_dir = Path(run_dir)
    demo = load_demo(run_dir) if demo is None else demo
    figures = run_dir / FIGURES_DIR
    figures.mkdir(parents=True, exist_ok=True)

    def first(result):
        return result[0] if isinstance(result, tuple) else result

    body = [
        _guarded("Run", section_header, demo),
        _guarded("Pipeline", section_overview, demo),
        _guarded("Retargeting quality", section_retarget, demo),
        first(_guarded("Training", section_train, demo, run_dir, figures)),
        _guarded("Exported policy", section_export, demo),
        first(_guarded("Tracking: eval vs sim2sim", section_compare, demo, run_dir, figures)),
        _guarded("Sim2sim in MuJoCo", section_sim2sim_media, demo, run_dir),
        HOW_TO_READ,
    ]
    now = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    footer = (f"<footer>Generated {esc(now)} by <code>mimiclab.demo.report</code> from <code>demo.json</code>. "
              f"Figures also in <code>{FIGURES_DIR}/</code>; every number above comes from this run's "
              "<code>demo.json</code> and the files it names.</footer>")
    title = f"mimiclab demo — {demo.get('preset', 'run')} on {demo.get('device', '?')}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
            + "".join(body) + footer + "</main></body></html>\n")


def write_report(run_dir: str | os.PathLike) -> Path:
    """Write ``run_dir/report.html`` (atomically) and ``run_dir/figures/*.png`` from
    ``run_dir/demo.json``; returns the report's path. ReportError (a ValueError) when demo.json is
    missing or unreadable."""
    from mimiclab.motion.format import atomic_write

    run_dir = Path(run_dir)
    page = render_report(run_dir).encode("utf-8")
    return atomic_write(run_dir / REPORT_FILE, lambda f: f.write(page))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m mimiclab.demo.report RUN_DIR", file=sys.stderr)
        return 2
    try:
        path = write_report(args[0])
    except ReportError as e:
        print(e, file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

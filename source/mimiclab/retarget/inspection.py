"""`mimiclab inspect FILE`: what the retargeter understands of an input, before retargeting it.

    report = inspect_file("clip.bvh")        # dict: format, frames, fps, roles, units, up axis, ...
    print(format_report(report))
    draw_roles("clip.bvh", "clip.inspect.png")  # rest pose and first frame, roles labelled
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mimiclab.retarget.sources.options import SourceOptions


def _load(path: str | Path, options: SourceOptions, skeleton: str):
    from mimiclab.retarget.pipeline import normalized_roles
    from mimiclab.retarget.skeleton_map import select_map
    from mimiclab.retarget.sources.detect import load_human_motion

    human = load_human_motion(path, "auto", options=options)
    human.validate()
    smap = select_map(skeleton, human)
    if smap.direct:
        return human, smap, None, None
    _, info = normalized_roles(human, smap)
    return human, smap, info, np.asarray(info["heading"])  # file axes → Z-up, facing +x (mirror included)


def inspect_file(path: str | Path, options: SourceOptions | None = None, skeleton: str = "auto") -> dict:
    """Format, frames, fps, joints, the roles found (and how), units, up axis, handedness.
    Robot motions (G1 CSV, robot npz) report frames, fps and joints only."""
    from mimiclab.retarget.sources.detect import sniff_format

    options = options or SourceOptions()
    kind = sniff_format(path)
    if kind in ("g1csv", "npz"):
        from mimiclab.motion.format import load_motion

        motion = load_motion(path, fps=options.source_fps)
        return {"file": str(path), "format": kind, "kind": "robot motion (G1)", "frames": motion.num_frames,
                "fps": float(motion.fps), "joints": len(motion.joint_names), "bodies": len(motion.body_names)}
    human, smap, info, _ = _load(path, options, skeleton)
    report = {"file": str(path), "format": kind, "kind": "human motion", "frames": human.num_frames,
              "fps": float(human.fps), "joints": len(human.joint_names), "layout": human.layout,
              "skeleton_map": smap.name, "map_source": smap.source,
              "roles": {r: list(v) for r, v in smap.roles.items()}}
    if info is not None:
        report.update({"units": info["units"], "unit_scale": info["unit_scale"], "up_axis": info["up_axis"],
                       "mirrored": bool(info["mirrored"]), "body_height_m": round(info["body_height_m"], 3)})
    if human.extra.get("root_relative"):
        report["root_relative"] = True
    used = {n for names in smap.roles.values() for n in names}
    report["unused_joints"] = [n for n in human.joint_names if n not in used]
    if smap.notes:
        report["notes"] = list(smap.notes)
    return report


def format_report(report: dict) -> str:
    """The report as the terminal shows it."""
    lines = [f"file      {report['file']}", f"format    {report['format']} ({report['kind']})",
             f"frames    {report['frames']} @ {report['fps']:g} fps ({report['frames'] / report['fps']:.2f} s)",
             f"joints    {report['joints']}"]
    if "roles" not in report:
        return "\n".join(lines)
    if report.get("layout"):
        lines.append(f"layout    {report['layout']}")
    lines.append(f"skeleton  {report['skeleton_map']} ({report['map_source']})")
    if "units" in report:
        lines.append(f"units     {report['units']} ({report['unit_scale']:.6g} m per unit; body "
                     f"{report['body_height_m']:.2f} m tall)")
        lines.append(f"up axis   {report['up_axis']}" + ("   left-handed: mirrored" if report["mirrored"] else ""))
    if report.get("root_relative"):
        lines.append("root      root-relative input: no root translation (the robot stays in place)")
    lines.append("roles")
    for role, names in report["roles"].items():
        lines.append(f"  {role:<15} {', '.join(names)}")
    unused = report["unused_joints"]
    if unused:
        shown = ", ".join(unused[:12]) + (f", … ({len(unused)} in all)" if len(unused) > 12 else "")
        lines.append(f"unused    {shown}")
    for note in report.get("notes", []):
        lines.append(f"note      {note}")
    return "\n".join(lines)


def draw_roles(path: str | Path, png: str | Path, options: SourceOptions | None = None,
               skeleton: str = "auto") -> Path:
    """PNG: the skeleton's rest pose (BVH: every rotation zero) and its first frame, brought Z-up
    and facing +x as the retargeter sees it, bones in grey, role joints labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mimiclab.motion.format import atomic_write

    options = options or SourceOptions()
    human, smap, info, R = _load(path, options, skeleton)
    if info is None:
        raise ValueError(f"{path}: a robot-named motion (direct map): no human roles to draw")
    role_of = {}
    for role, names in smap.roles.items():
        if len(names) == 1:
            role_of.setdefault(names[0], []).append(role)
    poses = []
    rest = human.extra.get("rest_positions")
    if rest is not None:
        poses.append(("rest pose (every rotation zero)", np.asarray(rest, float)))
    poses.append(("frame 0", np.asarray(human.positions[0], float)))
    fig = plt.figure(figsize=(6.5 * len(poses), 7.5))
    for k, (title, pos) in enumerate(poses):
        ax = fig.add_subplot(1, len(poses), k + 1, projection="3d")
        p = (pos - np.nanmean(pos, axis=0)) @ R.T
        if human.parents is not None:
            for j, par in enumerate(human.parents):
                if par >= 0 and np.isfinite(p[[j, par]]).all():
                    ax.plot(*p[[par, j]].T, color="0.6", lw=1.5)
        for j, name in enumerate(human.joint_names):
            if not np.isfinite(p[j]).all():
                continue
            roles = role_of.get(name)
            ax.scatter(*p[j], s=22 if roles else 6, color="tab:red" if roles else "0.4")
            if roles:
                ax.text(*p[j], " " + "/".join(r.replace("left_", "L ").replace("right_", "R ") for r in roles),
                        fontsize=8, color="tab:red")
        span = np.nanmax(np.abs(p)) or 1.0
        ax.set_xlim(-span, span), ax.set_ylim(-span, span), ax.set_zlim(-span, span)
        ax.set_box_aspect((1, 1, 1))
        ax.set_xlabel("x (forward)"), ax.set_ylabel("y (left)"), ax.set_zlabel("z (up)")
        ax.view_init(elev=12, azim=-35)
        ax.set_title(title)
    fig.suptitle(f"{Path(path).name}: {smap.name} skeleton, {info['units']}, up {info['up_axis']}"
                 + (", mirrored" if info["mirrored"] else ""))
    png = Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    atomic_write(png, lambda f: f.write(buf.getvalue()))
    return png

"""Command line: ``anagen trichoscopy count | batch | compare | calibrate``.

``count PATH... [--profile P] [--overlay DIR] [--json]``
    Analyse images (files or folders). With ``--json``, one JSON object per image
    (JSON Lines); otherwise a short table. A file that cannot be read is reported and
    the others are still processed; the exit status is 1 when any failed.
``batch DIR --out results.csv [--jobs N] [--profile P] [--overlay DIR]``
    Analyse a folder in parallel with a progress bar, writing one CSV row per image.
    Resumable: images already in the CSV are skipped when it is run again.
``compare BASELINE FOLLOWUP [--profile P] [--json]``
    Match the hairs of a follow-up photograph of a target area to its baseline and
    print ``kept``, ``lost``, ``new``, ``matched_change`` and ``count_change`` over the
    field both images cover (``--json``: one JSON object with the pairs too).
``calibrate IMAGE --mm N [--profile BASE] [--name NAME] [--out FILE]``
    Measure the scale from a photographed ruler or calibration slide whose graduation
    lines are ``N`` mm apart, and write a profile with that scale.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from .io import ImageError, read_image
from .profiles import Profile, ProfileError, load_profile, save_profile

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff"}
CSV_FIELDS = [
    "image", "status", "error", "usable", "quality_flags", "hair_count", "terminal_count",
    "vellus_count", "field_area_cm2", "density_per_cm2", "mean_diameter_um",
    "follicular_units", "elapsed_ms", "engine_version", "profile", "rule_count",
]


def _expand(paths: list[str]) -> list[Path]:
    """Files as given, folders expanded to their images (sorted)."""
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(sorted(f for f in path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()))
        else:
            out.append(path)
    return out


def _analyse_file(path: str, profile: Profile, overlay_dir: str | None) -> dict[str, Any]:
    """Analyse one file; never raises for a bad image (the error goes in the record)."""
    from .measure import analyze
    from .overlay import render_overlay

    try:
        image = read_image(path)
    except ImageError as exc:
        return {"image": path, "error": str(exc)}
    result = analyze(image, profile)
    record = {"image": path, **result.to_dict()}
    if overlay_dir:
        target = Path(overlay_dir) / (Path(path).stem + ".overlay.png")
        target.write_bytes(render_overlay(image, result, profile))
        record["overlay"] = str(target)
    return record


def _json_record(record: dict[str, Any]) -> dict[str, Any]:
    if "error" in record:
        return {"image": record["image"], "error": record["error"]}
    out = {
        "image": record["image"],
        "usable": record["usable"],
        "quality": record["quality"],
        "hair_count": record["hair_count"],
        "terminal_count": record["terminal_count"],
        "vellus_count": record["vellus_count"],
        "field_area_cm2": record["field_area_cm2"],
        "density_per_cm2": record["density_per_cm2"],
        "mean_diameter_um": record["mean_diameter_um"],
    }
    out.update({k: v for k, v in record.items() if k not in out and k != "image"})
    return out


def _fmt(value: Any, spec: str = "") -> str:
    if value is None:
        return "-"
    return format(value, spec) if spec else str(value)


def cmd_count(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    if args.overlay:
        Path(args.overlay).mkdir(parents=True, exist_ok=True)
    files = _expand(args.paths)
    if not files:
        print("no images found in the given paths.", file=sys.stderr)
        return 1
    failed = 0
    if not args.json:
        print(f"{'image':<32} {'usable':<7} {'hairs':>5} {'rule':>5} {'term':>5} {'vell':>5} {'/cm²':>7} "
              f"{'diam µm':>7}  flags")
    for path in files:
        record = _analyse_file(str(path), profile, args.overlay)
        if "error" in record:
            failed += 1
            if args.json:
                print(json.dumps(_json_record(record)), flush=True)
            print(f"error: {record['error']}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(_json_record(record)), flush=True)
        else:
            print(
                f"{Path(record['image']).name[:32]:<32} {('yes' if record['usable'] else 'NO'):<7} "
                f"{record['hair_count']:>5} {record['rule_count']:>5} "
                f"{_fmt(record['terminal_count']):>5} {_fmt(record['vellus_count']):>5} "
                f"{_fmt(record['density_per_cm2'], '.0f'):>7} {_fmt(record['mean_diameter_um'], '.0f'):>7}  "
                f"{','.join(record['quality']['flags']) or '-'}"
            )
    if failed:
        print(f"{failed} of {len(files)} file(s) could not be analysed.", file=sys.stderr)
    return 1 if failed else 0


def _csv_row(record: dict[str, Any]) -> dict[str, Any]:
    if "error" in record:
        return {"image": record["image"], "status": "error", "error": record["error"]}
    return {
        "image": record["image"],
        "status": "ok",
        "error": "",
        "usable": record["usable"],
        "quality_flags": " ".join(record["quality"]["flags"]),
        "hair_count": record["hair_count"],
        "terminal_count": _fmt(record["terminal_count"]).replace("-", ""),
        "vellus_count": _fmt(record["vellus_count"]).replace("-", ""),
        "field_area_cm2": record["field_area_cm2"] if record["field_area_cm2"] is not None else "",
        "density_per_cm2": record["density_per_cm2"] if record["density_per_cm2"] is not None else "",
        "mean_diameter_um": record["mean_diameter_um"] if record["mean_diameter_um"] is not None else "",
        "follicular_units": len(record["follicular_units"]),
        "elapsed_ms": record["elapsed_ms"],
        "engine_version": record["engine_version"],
        "profile": record["profile"],
        "rule_count": record["rule_count"],
    }


def _batch_worker(path: str, profile: Profile, overlay_dir: str | None) -> dict[str, Any]:
    try:
        return _csv_row(_analyse_file(path, profile, overlay_dir))
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop a batch
        return {"image": path, "status": "error", "error": f"internal error: {exc!r}"}


def cmd_batch(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    folder = Path(args.folder)
    if not folder.is_dir():
        print(f"error: {folder} is not a folder.", file=sys.stderr)
        return 2
    profile = load_profile(args.profile)
    if args.overlay:
        Path(args.overlay).mkdir(parents=True, exist_ok=True)
    out = Path(args.out)
    done: set[str] = set()
    fields = CSV_FIELDS
    if out.exists() and out.stat().st_size > 0:
        with open(out, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            done = {row["image"] for row in reader if row.get("status") == "ok"}
            # A file begun by an earlier version keeps its own columns.
            fields = list(reader.fieldnames or CSV_FIELDS)
    files = [str(p) for p in _expand([str(folder)]) if str(p) not in done]
    new_file = not out.exists() or out.stat().st_size == 0
    failed = 0
    with open(out, "a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        if new_file:
            writer.writeheader()
        bar = tqdm(total=len(files), unit="img", disable=args.quiet, file=sys.stderr)
        jobs = max(1, args.jobs)

        def handle(row: dict[str, Any]) -> None:
            nonlocal failed
            writer.writerow(row)
            fh.flush()  # every finished image is kept, so an interrupted batch resumes
            if row["status"] != "ok":
                failed += 1
                bar.write(f"error: {row['error']}", file=sys.stderr)
            bar.update(1)

        if jobs == 1:
            for path in files:
                handle(_batch_worker(path, profile, args.overlay))
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                pending = {pool.submit(_batch_worker, p, profile, args.overlay): p for p in files}
                for future in as_completed(pending):
                    handle(future.result())
        bar.close()
    skipped = f", {len(done)} already done" if done else ""
    print(f"{len(files) - failed} analysed, {failed} failed{skipped}; results in {out}", file=sys.stderr)
    return 1 if failed else 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from .calibrate import CalibrationError, calibrate_scale

    try:
        image = read_image(args.image)
        px_per_mm = calibrate_scale(image, args.mm)
    except (ImageError, CalibrationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    base = load_profile(args.profile)
    name = args.name or f"{base.name}-calibrated"
    profile = base.with_scale(round(px_per_mm, 3), name=name)
    target = save_profile(profile, args.out)
    field_w = image.shape[1] / px_per_mm
    field_h = image.shape[0] / px_per_mm
    print(f"{px_per_mm:.2f} px/mm (field {field_w:.2f} x {field_h:.2f} mm); profile {name!r} written to {target}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .matching import match_visits

    profile = load_profile(args.profile)
    try:
        baseline = read_image(args.baseline)
        followup = read_image(args.followup)
        match = match_visits(baseline, followup, profile)
    except (ImageError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    record = {"baseline": args.baseline, "followup": args.followup, **match.to_dict()}
    if args.json:
        print(json.dumps(record))
    else:
        print(f"kept {record['kept']}, lost {record['lost']}, new {record['new']} over "
              f"{100 * record['overlap_fraction']:.0f}% of the field; matched change {record['matched_change']:+d}, "
              f"independent counts {record['count_change']:+d} ({record['baseline_count']} -> {record['followup_count']})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="anagen trichoscopy", description="Count and measure hairs in trichoscopy images.")
    sub = parser.add_subparsers(dest="command", required=True)

    count = sub.add_parser("count", help="analyse images and print the results")
    count.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    count.add_argument("--profile", help="profile name or TOML file (default: the default profile)")
    count.add_argument("--overlay", metavar="DIR", help="write an overlay PNG per image into DIR")
    count.add_argument("--json", action="store_true", help="one JSON object per image (JSON Lines)")
    count.set_defaults(func=cmd_count)

    batch = sub.add_parser("batch", help="analyse a folder into a CSV, in parallel, resumable")
    batch.add_argument("folder", metavar="DIR")
    batch.add_argument("--out", required=True, help="CSV file (appended to; finished images are skipped)")
    batch.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel processes (default: all cores)")
    batch.add_argument("--profile")
    batch.add_argument("--overlay", metavar="DIR")
    batch.add_argument("--quiet", action="store_true", help="no progress bar")
    batch.set_defaults(func=cmd_batch)

    compare = sub.add_parser("compare", help="match the hairs of a follow-up to its baseline (kept, lost, new)")
    compare.add_argument("baseline", metavar="BASELINE")
    compare.add_argument("followup", metavar="FOLLOWUP")
    compare.add_argument("--profile", help="profile name or TOML file (default: the default profile)")
    compare.add_argument("--json", action="store_true", help="one JSON object with the pairs")
    compare.set_defaults(func=cmd_compare)

    cal = sub.add_parser("calibrate", help="measure the scale from a ruler or calibration slide")
    cal.add_argument("image")
    cal.add_argument("--mm", type=float, required=True, help="spacing of the graduation lines in mm")
    cal.add_argument("--profile", help="profile to start from (default: the default profile)")
    cal.add_argument("--name", help="name of the calibrated profile")
    cal.add_argument("--out", help="TOML file to write (default: the user profile folder)")
    cal.set_defaults(func=cmd_calibrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``anagen trichoscopy`` with ``argv`` (without the word ``trichoscopy``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ProfileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

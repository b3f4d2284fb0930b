"""Count accuracy of the trichoscopy engine on images with per-hair Pascal VOC boxes.

Usage::

    python benchmarks/trichoscopy_accuracy.py --voc /path/to/fdu-dev [--limit N]
        [--profile P] [--overlays DIR] [--worst K] [--jobs N]

The folder holds ``Images/*.jpg`` and ``Annotations/*.xml`` (one ``<object>`` per hair).
The true count of an image is the number of objects whose class is not ``abnormal``
(the protocol of the published CSRNet model on the FDU dataset). Prints the mean
absolute error, root mean square error, median absolute error, the mean absolute error
by true-count bucket, the same for a constant predictor (the mean true count: the floor
any method must beat), and the time per image. Uses the engine's default settings.

When the folder has a ``list.txt`` (one image stem per line), the table is repeated for
its even- and odd-numbered lines (1-based): tune on one half, report the other, and
the difference between the halves shows how much the tuning fitted its own half.
"""

from __future__ import annotations

import argparse
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anagen.trichoscopy import analyze, load_profile, read_image, render_overlay  # noqa: E402

BUCKETS = [(0, 8), (9, 12), (13, 16), (17, 20), (21, 10_000)]


def true_count(xml_path: Path) -> int:
    root = ET.parse(xml_path).getroot()
    return sum(1 for obj in root.iter("object") if (obj.findtext("class") or "").strip() != "abnormal")


def _run_one(args: tuple[str, str | None]) -> tuple[str, int, float]:
    path, profile_name = args
    profile = load_profile(profile_name)
    image = read_image(path)
    start = time.perf_counter()
    result = analyze(image, profile)
    elapsed = (time.perf_counter() - start) * 1000.0
    return path, result.hair_count, elapsed


def errors_table(truth: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    err = pred - truth
    row = {
        "MAE": float(np.mean(np.abs(err))),
        "RMSE": float(np.sqrt(np.mean(err**2))),
        "median": float(np.median(np.abs(err))),
        "bias": float(np.mean(err)),
    }
    for lo, hi in BUCKETS:
        sel = (truth >= lo) & (truth <= hi)
        label = f"{lo}-{hi}" if hi < 10_000 else f"{lo}+"
        row[label] = float(np.mean(np.abs(err[sel]))) if sel.any() else float("nan")
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voc", required=True, type=Path, help="folder with Images/ and Annotations/")
    parser.add_argument("--limit", type=int, default=0, help="only the first N images (by name)")
    parser.add_argument("--every", type=int, default=1, help="take every k-th image (quick subsets)")
    parser.add_argument("--profile", default=None, help="profile name or TOML (default profile if omitted)")
    parser.add_argument("--overlays", type=Path, default=None, help="write overlays of the worst images here")
    parser.add_argument("--worst", type=int, default=8, help="how many worst images to list")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)

    images = sorted((args.voc / "Images").glob("*.jpg"))[:: args.every]
    if args.limit:
        images = images[: args.limit]
    truth, pred, times, names = [], [], [], []
    work = [(str(p), args.profile) for p in images]
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(_run_one, work, chunksize=4))
    else:
        results = [_run_one(w) for w in work]
    for path, count, elapsed in results:
        p = Path(path)
        truth.append(true_count(args.voc / "Annotations" / f"{p.stem}.xml"))
        pred.append(count)
        times.append(elapsed)
        names.append(p.stem)
    truth_a = np.array(truth, dtype=float)
    pred_a = np.array(pred, dtype=float)
    constant = np.full_like(truth_a, truth_a.mean())

    cols = ["MAE", "RMSE", "median", "bias"] + [
        f"{lo}-{hi}" if hi < 10_000 else f"{lo}+" for lo, hi in BUCKETS
    ]
    print(f"images: {len(truth_a)}   mean true count: {truth_a.mean():.2f}   "
          f"mean predicted: {pred_a.mean():.2f}")
    counts = [int(((truth_a >= lo) & (truth_a <= hi)).sum()) for lo, hi in BUCKETS]
    print("images per bucket: " + ", ".join(f"{c}: {n}" for c, n in zip(cols[4:], counts)))
    print("| predictor | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for label, p in (("engine", pred_a), ("constant (mean count)", constant)):
        row = errors_table(truth_a, p)
        print(f"| {label} | " + " | ".join(f"{row[c]:.2f}" for c in cols) + " |")
    listing = args.voc / "list.txt"
    if listing.exists():
        line_of = {stem: i for i, stem in enumerate(listing.read_text().split(), start=1)}
        for half, parity in (("even lines of list.txt", 0), ("odd lines of list.txt", 1)):
            sel = np.array([line_of.get(n, -1) % 2 == parity and n in line_of for n in names])
            if sel.any():
                row = errors_table(truth_a[sel], pred_a[sel])
                print(f"| engine, {half} ({int(sel.sum())}) | " + " | ".join(f"{row[c]:.2f}" for c in cols) + " |")
    t = np.array(times)
    print(f"time per image: mean {t.mean():.0f} ms, median {np.median(t):.0f} ms, max {t.max():.0f} ms "
          "(analysis only, decode excluded)")

    order = np.argsort(-np.abs(pred_a - truth_a))[: args.worst]
    print("worst images (true, predicted):")
    for i in order:
        print(f"  {names[i]}: {int(truth_a[i])} -> {int(pred_a[i])}")
    if args.overlays:
        args.overlays.mkdir(parents=True, exist_ok=True)
        profile = load_profile(args.profile)
        for i in order:
            image = read_image(images[i])
            (args.overlays / f"{names[i]}.png").write_bytes(render_overlay(image, analyze(image, profile), profile))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

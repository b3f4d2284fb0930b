"""Count accuracy of the trichoscopy engine on images with per-hair Pascal VOC boxes.

Usage::

    python benchmarks/trichoscopy_accuracy.py --voc /path/to/fdu-dev [--limit N]
        [--profile P] [--px-per-mm S] [--overlays DIR] [--worst K] [--jobs N]

Run it twice: uncalibrated (the engine estimates each image's scale from its shaft
widths, as for a device never calibrated) and with ``--px-per-mm 364``, the scale the
1 mm bar burned into the FDU frames gives (182 device pixels per mm, enlarged 2x).

The folder holds ``Images/*.jpg`` and ``Annotations/*.xml`` (one ``<object>`` per hair).
The true count of an image is the number of objects whose class is not ``abnormal``
(the protocol of the published CSRNet model on the FDU dataset). Prints the mean
absolute error, root mean square error, median absolute error, the mean absolute error
by true-count bucket, the same for a constant predictor (the mean true count: the floor
by true-count bucket, the same for the counting-rule count (`rule_count`: hairs cut by the
bottom or right edge left out) and for the interior-only count (no border-cut hair), and for
a constant predictor (the mean true count: the floor

The same table follows at the device's native scale: every image halved (the FDU
images are 2x-enlarged quadrants of the device's frames), and 1280 x 1024 frames
rebuilt by tiling four halved images (the truth of a frame is the sum of its four):
first as the device lays them out (an image ending ``_1`` top-left with the banner,
``_2`` top-right, ``_3`` bottom-left with the scale bar, ``_4`` bottom-right; the k-th
image of each position, so 60 frames from the 300), then in name order (75 frames, with
banners and scale bars wherever the order puts them: a harder case than a device's own
frame). Then the time to decode a JPEG and to analyse it, on one core.

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

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anagen.trichoscopy import analyze, load_profile, read_image, render_overlay  # noqa: E402

BUCKETS = [(0, 8), (9, 12), (13, 16), (17, 20), (21, 10_000)]


def true_count(xml_path: Path) -> int:
    root = ET.parse(xml_path).getroot()
    return sum(1 for obj in root.iter("object") if (obj.findtext("class") or "").strip() != "abnormal")


def _profile(profile_name: str | None, px_per_mm: float | None):
    profile = load_profile(profile_name)
    return profile.with_scale(px_per_mm) if px_per_mm else profile


def _run_one(args: tuple[str, str | None, float | None]) -> tuple[str, int, float, int, int]:
    path, profile_name, px_per_mm = args
    profile = _profile(profile_name, px_per_mm)
    image = read_image(path)
    start = time.perf_counter()
    result = analyze(image, profile)
    elapsed = (time.perf_counter() - start) * 1000.0
    interior = sum(1 for h in result.hairs if not h.cut_by_border)
    return path, result.hair_count, elapsed, result.rule_count, interior


def _halve(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    return cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA)


def _run_native(args: tuple) -> tuple[tuple[str, ...], list[int], int, float]:
    """Halved images one by one (unless ``args`` ends with False), and the frame tiled from the
    four of them."""
    paths, profile_name, px_per_mm, *rest = args
    profile = _profile(profile_name, px_per_mm / 2 if px_per_mm else None)
    halves = [_halve(read_image(p)) for p in paths]
    counts = [analyze(h, profile).hair_count for h in halves] if (rest[0] if rest else True) else []
    frame_count, elapsed = -1, 0.0
    if len(halves) == 4:
        frame = np.vstack([np.hstack(halves[:2]), np.hstack(halves[2:])])
        start = time.perf_counter()
        frame_count = analyze(frame, profile).hair_count
        elapsed = (time.perf_counter() - start) * 1000.0
    return paths, counts, frame_count, elapsed


def _map(fn, work: list, jobs: int) -> list:
    """``fn`` over ``work``, in ``jobs`` processes when more than one."""
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            return list(pool.map(fn, work))
    return [fn(w) for w in work]


def print_table(title: str, truth_a: np.ndarray, pred_a: np.ndarray, with_constant: bool = True) -> None:
    cols = ["MAE", "RMSE", "median", "bias"] + [
        f"{lo}-{hi}" if hi < 10_000 else f"{lo}+" for lo, hi in BUCKETS
    ]
    print(f"\n{title}: {len(truth_a)} images, mean true count {truth_a.mean():.2f}, "
          f"mean predicted {pred_a.mean():.2f} (bias {100 * (pred_a.mean() / truth_a.mean() - 1):+.1f} %)")
    counts = [int(((truth_a >= lo) & (truth_a <= hi)).sum()) for lo, hi in BUCKETS]
    print("images per bucket: " + ", ".join(f"{c}: {n}" for c, n in zip(cols[4:], counts)))
    print("| predictor | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    rows = [("engine", pred_a)]
    if with_constant:
        rows.append(("constant (mean count)", np.full_like(truth_a, truth_a.mean())))
    for label, p in rows:
        row = errors_table(truth_a, p)
        print(f"| {label} | " + " | ".join(f"{row[c]:.2f}" for c in cols) + " |")


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
    parser.add_argument("--px-per-mm", type=float, default=None,
                        help="scale of the images as given (halved images get half); omitted: uncalibrated, "
                        "the engine estimates the scale from shaft widths")
    parser.add_argument("--no-native", action="store_true", help="skip the native-scale tables")
    args = parser.parse_args(argv)

    images = sorted((args.voc / "Images").glob("*.jpg"))[:: args.every]
    if args.limit:
        images = images[: args.limit]
    truth, pred, times, names, rule, interior = [], [], [], [], [], []
    work = [(str(p), args.profile, args.px_per_mm) for p in images]
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(_run_one, work, chunksize=4))
    else:
        results = [_run_one(w) for w in work]
    for path, count, elapsed, rule_count, interior_count in results:
        p = Path(path)
        truth.append(true_count(args.voc / "Annotations" / f"{p.stem}.xml"))
        pred.append(count)
        rule.append(rule_count)
        interior.append(interior_count)
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
    rule_a = np.array(rule, dtype=float)
    interior_a = np.array(interior, dtype=float)
    for label, p in (("engine", pred_a),
                     ("engine, counting-rule count (not cut by bottom/right)", rule_a),
                     ("engine, interior-only count (no border-cut hair)", interior_a),
                     ("constant (mean count)", constant)):
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

    if not args.no_native:
        groups = [tuple(str(p) for p in images[i : i + 4]) for i in range(0, len(images), 4)]
        native = _map(_run_native, [(g, args.profile, args.px_per_mm) for g in groups], args.jobs)
        index = {n: i for i, n in enumerate(names)}
        half_pred = np.full_like(truth_a, np.nan)
        frame_truth, frame_pred, frame_ms = [], [], []
        for paths, counts, frame_count, elapsed in native:
            for p, c in zip(paths, counts):
                half_pred[index[Path(p).stem]] = c
            if frame_count >= 0:
                frame_truth.append(sum(truth_a[index[Path(p).stem]] for p in paths))
                frame_pred.append(frame_count)
                frame_ms.append(elapsed)
        print_table("halved images (device pixels, 640 x 512)", truth_a, half_pred)
        by_position = [sorted(p for p in images if p.stem.endswith(f"_{k}")) for k in (1, 2, 3, 4)]
        groups_p = [tuple(str(p) for p in g) for g in zip(*by_position)]
        # (the halved images were counted above: only the frames here)
        positional = _map(_run_native, [(g, args.profile, args.px_per_mm, False) for g in groups_p], args.jobs)
        truth_p = [sum(truth_a[index[Path(p).stem]] for p in paths) for paths, _, fc, _ in positional if fc >= 0]
        pred_p = [fc for _, _, fc, _ in positional if fc >= 0]
        if pred_p:
            print_table("native frames as the device lays them out (_1 _2 / _3 _4, 1280 x 1024)",
                        np.array(truth_p), np.array(pred_p, dtype=float))
        print_table("native frames in name order (four halved images tiled, 1280 x 1024; "
                    "banners and scale bars inside the frame)",
                    np.array(frame_truth), np.array(frame_pred, dtype=float))
        print(f"native frame analysis: median {np.median(frame_ms):.0f} ms")

    # Decode and analysis of the same file on one core, interleaved so that the
    # load of the machine weighs on both alike.
    sample = images[:: max(1, len(images) // 20)][:20]
    profile = _profile(args.profile, args.px_per_mm)
    dec, ana = [], []
    for p in sample:
        data = p.read_bytes()
        start = time.perf_counter()
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        dec.append(time.perf_counter() - start)
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        start = time.perf_counter()
        analyze(rgb, profile)
        ana.append(time.perf_counter() - start)
    d, a = np.median(dec) * 1000, np.median(ana) * 1000
    print(f"\none core, {len(sample)} images: JPEG decode median {d:.1f} ms, analysis median {a:.1f} ms "
          f"({a / d:.1f}x the decode)")
    if not args.no_native and len(images) >= 4:
        # Native frames: tiled from four halved images, stored as a JPEG (quality 90)
        # as a device would, then decoded and analysed.
        native_profile = _profile(args.profile, args.px_per_mm / 2 if args.px_per_mm else None)
        dec, ana = [], []
        for i in range(0, min(len(images) - 3, 40), 4):
            halves = [_halve(read_image(p)) for p in images[i : i + 4]]
            frame = np.vstack([np.hstack(halves[:2]), np.hstack(halves[2:])])
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
            start = time.perf_counter()
            img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
            dec.append(time.perf_counter() - start)
            rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
            start = time.perf_counter()
            analyze(rgb, native_profile)
            ana.append(time.perf_counter() - start)
        d, a = np.median(dec) * 1000, np.median(ana) * 1000
        print(f"one core, {len(dec)} native 1280 x 1024 frames: JPEG decode median {d:.1f} ms, "
              f"analysis median {a:.1f} ms ({a / d:.1f}x the decode)")

    order = np.argsort(-np.abs(pred_a - truth_a))[: args.worst]
    print("worst images (true, predicted):")
    for i in order:
        print(f"  {names[i]}: {int(truth_a[i])} -> {int(pred_a[i])}")
    if args.overlays:
        args.overlays.mkdir(parents=True, exist_ok=True)
        profile = _profile(args.profile, args.px_per_mm)
        for i in order:
            image = read_image(images[i])
            (args.overlays / f"{names[i]}.png").write_bytes(render_overlay(image, analyze(image, profile), profile))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

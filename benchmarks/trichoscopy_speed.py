"""Speed and memory of the trichoscopy engine on one core.

Usage::

    python benchmarks/trichoscopy_speed.py [--images DIR] [--n 20] [--batch 300]

Prints, measured in the same run on the same images: milliseconds to decode a
1280 x 1024 JPEG (Pillow, as `read_image` does) and milliseconds to analyse it, with
their ratio; then the peak resident memory of one process analysing ``--batch``
images one after another (the `batch` command's worker pattern). Without ``--images``,
synthetic 1280 x 1024 JPEGs are generated.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

cv2.setNumThreads(1)

from anagen.trichoscopy import analyze, load_profile, read_image  # noqa: E402
from anagen.trichoscopy.synthetic import generate_scalp  # noqa: E402


def _jpegs(folder: Path | None, n: int) -> list[bytes]:
    if folder:
        files = sorted(folder.glob("*.jpg"))[:n]
        return [f.read_bytes() for f in files]
    out = []
    for seed in range(n):
        img = generate_scalp(seed=seed, n_hairs=24, shape=(1024, 1280), px_per_mm=280.0, jpeg_quality=None).image
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=None, help="folder of 1280 x 1024 JPEGs")
    parser.add_argument("--n", type=int, default=20, help="images timed")
    parser.add_argument("--batch", type=int, default=300, help="images in the memory run")
    args = parser.parse_args(argv)

    profile = load_profile()
    data = _jpegs(args.images, args.n)
    analyze(read_image(data[0]), profile)  # warm up imports and caches

    decode_ms, analyse_ms = [], []
    for blob in data:
        t0 = time.perf_counter()
        image = read_image(blob)
        t1 = time.perf_counter()
        analyze(image, profile)
        t2 = time.perf_counter()
        decode_ms.append((t1 - t0) * 1000)
        analyse_ms.append((t2 - t1) * 1000)
    shape = read_image(data[0]).shape
    d, a = float(np.median(decode_ms)), float(np.median(analyse_ms))
    print(f"images: {len(data)} of {shape[1]} x {shape[0]} px ({'given folder' if args.images else 'synthetic'}), one core")
    print(f"decode JPEG:   median {d:.1f} ms")
    print(f"analyse:       median {a:.1f} ms (mean {np.mean(analyse_ms):.1f}, max {np.max(analyse_ms):.1f})")
    print(f"ratio analyse / decode: {a / d:.1f}x")

    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    for i in range(args.batch):
        analyze(read_image(data[i % len(data)]), profile)
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"batch of {args.batch} images: {elapsed:.1f} s, {args.batch / elapsed:.1f} images/s; "
          f"peak resident memory {peak:.0f} MB (before the batch: {start_rss:.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

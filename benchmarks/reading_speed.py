"""What a blinded reading costs per image, without the database.

Usage::

    .venv/bin/python benchmarks/reading_speed.py [--n 10] [--hairs 40]

For a synthetic target-area image at the demo's size (432 x 576) and at a full dermoscope frame
(1024 x 1280): milliseconds to code it (decode the stored JPEG, re-encode the pixels as a
metadata-free PNG; the engine's result is copied, not recomputed), the coded PNG's size against
the JPEG's, and milliseconds to draw the overlay a reading page asks for (decode the coded PNG,
apply a reader's corrections, render), which the pages do on every request instead of storing
a drawing per reading. Medians of ``--n`` runs.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _ms(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--hairs", type=int, default=40)
    args = ap.parse_args()

    from PIL import Image

    from anagen.studies.reading import strip_to_png
    from anagen.trichoscopy import Profile, analyze, apply_corrections, read_image, render_overlay
    from anagen.trichoscopy.synthetic import generate_scalp

    print(f"{'image':>12} {'hairs':>5} {'code ms':>8} {'jpeg kB':>8} {'png kB':>7} {'overlay ms':>10} {'corrected ms':>12}")
    for shape, px_per_mm in (((432, 576), 90.0), ((1024, 1280), 200.0)):
        scalp = generate_scalp(1, n_hairs=args.hairs, px_per_mm=px_per_mm, shape=shape, crossings=1, parallel_pairs=1,
                               length_mm=(0.3, 0.7))
        buffer = io.BytesIO()
        Image.fromarray(scalp.image).save(buffer, format="JPEG", quality=92)
        jpeg = buffer.getvalue()
        profile = Profile(name="bench", px_per_mm=px_per_mm)
        result = analyze(scalp.image, profile)
        png = strip_to_png(read_image(jpeg))
        code_ms = _ms(lambda: strip_to_png(read_image(jpeg)), args.n)
        overlay_ms = _ms(lambda: render_overlay(read_image(png), result, profile), args.n)
        removed = [h.id for h in result.hairs[:2]]

        def corrected():
            fixed = apply_corrections(result, removed=removed, added=[(5, 5, 25, 40)], profile=profile)
            render_overlay(read_image(png), fixed, profile)

        corrected_ms = _ms(corrected, args.n)
        print(f"{shape[1]:>5} x {shape[0]:<4} {result.hair_count:>5} {code_ms:>8.1f} {len(jpeg) / 1e3:>8.0f} "
              f"{len(png) / 1e3:>7.0f} {overlay_ms:>10.1f} {corrected_ms:>12.1f}")


if __name__ == "__main__":
    main()

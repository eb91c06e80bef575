"""Memory of Algorithm 1's balanced set: index items vs copied pixels, n_min 1500 vs 15000.

Run: ``.venv/bin/python benchmarks/balance_memory.py`` (seconds, CPU only). Prints, for an
SE30K8-shaped label set (8 classes, imbalance ratio 54), the traced peak memory of
``balanced_items`` + ``ArrayDataset`` and what copying the over-sampled 224 x 224 images would
take. The images live in a memmap on disk, as a real data set would.
"""
from __future__ import annotations

import tempfile
import tracemalloc
from pathlib import Path

import numpy as np

from emo_lib.augment import SELECTED_TRANSFORMS
from emo_lib.balance import balanced_items
from emo_lib.train import ArrayDataset

# SE30K8-like class sizes (about 28,000 images, largest / smallest about 54); the memmap holds
# only a small stand-in of the images since items never read them.
CLASS_SIZES = [10800, 6000, 4000, 2800, 2000, 1200, 1000, 200]
SIDE = 224


def main() -> None:
    labels = np.repeat(np.arange(len(CLASS_SIZES)), CLASS_SIZES)
    per_image = SIDE * SIDE * 3
    with tempfile.TemporaryDirectory() as tmp:
        images = np.lib.format.open_memmap(Path(tmp) / "x.npy", mode="w+", dtype=np.uint8,
                                           shape=(len(labels), SIDE, SIDE, 3))
        print(f"{len(labels)} images, {len(CLASS_SIZES)} classes, "
              f"ratio {max(CLASS_SIZES) / min(CLASS_SIZES):.0f}")
        print(f"{'n_min':>7} {'copies':>8} {'items peak MiB':>15} {'bytes/item':>11} "
              f"{'pixel copies GiB':>17}")
        for n_min in (1500, 15000):
            tracemalloc.start()
            items = balanced_items(labels, n_min, SELECTED_TRANSFORMS, seed=0)
            data = ArrayDataset(images, labels, items)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            copies = len(data) - len(labels)
            print(f"{n_min:>7} {copies:>8} {peak / 2**20:>15.1f} {peak / len(data):>11.0f} "
                  f"{copies * per_image / 2**30:>17.1f}")
            del items, data


if __name__ == "__main__":
    main()

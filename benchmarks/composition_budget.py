"""Does a cheaper stand-in keep the shape of the composition curve (explanation page)?

For each training budget (input side, images, epochs) the stand-in is trained on the
composition experiment's sets (children's share 0, 1, 10, 30 % of a fixed total, and a 90 %
male set without children; pools drawn for 64-px crops, cropped at the input side), each
evaluated on the default ``cafe_like`` and ``nimh_like`` (seed 0, 64-px photographs cropped at
the model's input). Prints, per budget and set, the two accuracies, the CAFE-minus-NIMH-ChEFS
gap, the male-minus-female gap, the training seconds and the CPU seconds of the whole step;
then per budget the linear trends over the shares (gap, children's and adolescents' accuracy,
with subject-clustered 95 % intervals). CPU seconds are inflated on a busy machine (measured
here: 1.85 x a quiet machine's wall time for the full budget), so compare budgets by ratio.
Not a test: run it by hand (one torch thread, a quiet machine), e.g.

    EMO_CACHE=$PWD/.cache .venv/bin/python benchmarks/composition_budget.py \
        --budgets 64,3500,8 64,1400,4 64,1050,4
"""
from __future__ import annotations

import os

os.environ.setdefault("TQDM_DISABLE", "1")

import argparse  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from emo_lib import noh2023 as nh  # noqa: E402
from emo_lib.models import load_model  # noqa: E402

SETS = {"0 %": {"child_share": 0.0}, "1 %": {"child_share": 0.01},
        "10 %": {"child_share": 0.1}, "30 %": {"child_share": 0.3},
        "male 90 %": {"child_share": 0.0, "male_share": 0.9}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", nargs="+", default=["64,1400,4"],
                        help="size,n,epochs of each budget")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("budget\tset\tcafe\tnimh\tgap\tgender_gap\theldout\tseconds\tcpu", flush=True)
    for budget in args.budgets:
        size, n, epochs = (int(x) for x in budget.split(","))
        faces = {name: nh.load_faces(ds, None, None, size=size, image_size=64, seed=args.seed)
                 for name, ds in ((nh.CAFE, "synthetic:cafe_like"),
                                  (nh.NIMH, "synthetic:nimh_like"))}
        preds, shares = {}, {}
        for label in args.sets:
            t, cpu = time.perf_counter(), time.process_time()
            net = load_model("standin", size=size, n=n, epochs=epochs, seed=args.seed,
                             progress=False, composition={**SETS[label], "image_size": 64})
            seconds = net.info.get("seconds") if net.info.get("cache") == "trained" else \
                f"cached ({net.info.get('seconds', float('nan')):.1f})"
            preds[label] = nh.predict_all(net, faces)
            if "male_share" not in SETS[label]:
                shares[label] = SETS[label]["child_share"]
            acc = preds[label].groupby("dataset")["correct"].mean()
            sex = preds[label].groupby("gender")["correct"].mean()
            print(f"{budget}\t{label}\t{acc[nh.CAFE]:.3f}\t{acc[nh.NIMH]:.3f}\t"
                  f"{acc[nh.CAFE] - acc[nh.NIMH]:+.3f}\t{sex['male'] - sex['female']:+.3f}\t"
                  f"{net.info['heldout_accuracy']:.3f}\t{seconds}\t"
                  f"{time.process_time() - cpu:.1f}\t(wall {time.perf_counter() - t:.1f})",
                  flush=True)
        if len(set(shares.values())) > 1:
            trends = nh.share_trends(preds, shares)
            print(f"{budget}\ttrend over {min(shares.values()):.0%}-{max(shares.values()):.0%}:"
                  f" gap {trends['gap'].text()}, children {trends[nh.CAFE].text()}, "
                  f"adolescents {trends[nh.NIMH].text()}", flush=True)


if __name__ == "__main__":
    main()

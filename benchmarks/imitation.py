"""Imitation of unseen writers: priming alone vs `styles add --adapt`, scored by hwcli.evaluation.imitation.

For each of the first W IAM-OnDB testset_v writers of the shipped reference set, the writer's first
`--lines` lines (in line-id order) make a personal style (primed only, then adapted); the texts of the rest
of the writer's lines are generated in that style and scored against the real ones: writer identification
among 11 writers (the writer + 10 other reference writers) by two judges (hwcli.evaluation.imitation's LDA on stroke features
and hwcli.evaluation.hinge's nearest hinge histogram), and among the writer + `--distractors` IAM-OnDB trainset writers
by a third (`identify_among`: the same classifier, a crowd disjoint from the reference writers), feature distance,
the recognizer's CER.

    HWCLI_HOME=/tmp/bench OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/imitation.py --data iam.npz --writers 3
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--writers", type=int, default=3)
    ap.add_argument("--skip", type=int, default=0, help="start at this writer of the reference set")
    ap.add_argument("--lines", type=int, default=20)
    ap.add_argument("--like", type=int, default=30, help="real lines scored against (at most)")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--time-limit", type=float, default=480.0)
    ap.add_argument("--no-adapt", action="store_true")
    ap.add_argument("--adapted-only", action="store_true", help="only the adapted styles (e.g. --eval-only --copies N)")
    ap.add_argument("--eval-only", action="store_true", help="score styles made by an earlier run (same HWCLI_HOME)")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--reg-share", type=float, default=0.3)
    ap.add_argument("--freeze", default=None,
                    help="comma-separated parameter prefixes kept fixed while adapting ('' adapts every layer; "
                         "default: the library's, hwcli.styles.adapt.ADAPT_FREEZE)")
    ap.add_argument("--mix", default=None,
                    help="comma-separated adapted shares of blends with the bundle compared with the chosen step "
                         "('' none; default: the library's, hwcli.styles.adapt.MIX_SHARES)")
    ap.add_argument("--pass-slack", type=float, default=None,
                    help="how far below the best read-back pass rate an adapted step may be and still be chosen by "
                         "likeness (default: the library's, hwcli.styles.adapt.PASS_SLACK)")
    ap.add_argument("--nll-slack", type=float, default=None,
                    help="nats/point: adapted steps this close to the best held-out NLL are compared by their writing "
                         "(default: the library's, hwcli.styles.adapt.NLL_SLACK)")
    ap.add_argument("--check-cer", type=float, default=None,
                    help="read-back CER above which an adapted style resamples a segment (default: the library's, "
                         "hwcli.styles.adapt.ADAPTED_DEFAULTS)")
    ap.add_argument("--copies", type=int, default=None,
                    help="copies of every line an adapted style writes, the best reading kept (default: the style's "
                         "own, hwcli.styles.adapt.ADAPTED_DEFAULTS)")
    ap.add_argument("--suffix", default="", help="added to the style names (several settings side by side)")
    ap.add_argument("--bias", default="", help="comma-separated sampling biases to score (default: the bundle's)")
    ap.add_argument("--tesseract", action="store_true", help="also read the generated lines with tesseract")
    ap.add_argument("--seed", type=int, default=0, help="seed of the style's choices and adaptation and of the sampled lines")
    ap.add_argument("--model", default=None, help="the bundle styles are made for (default: add_style's, the bundled default)")
    ap.add_argument("--distractors", type=int, default=80,
                    help="the third judge: identify among this many IAM-OnDB trainset writers (30 lines each; 0: off)")
    ap.add_argument("--out", default="imitation.jsonl")
    args = ap.parse_args()

    import torch

    from hwcli.data.convert import load_dataset
    from hwcli.errors import HwcliError
    from hwcli.evaluation.imitation import evaluate_imitation
    from hwcli.styles.likeness import load_reference
    from hwcli.recognizer.network import load_recognizer
    from hwcli.styles.ink import prepare_lines, read_ink
    from hwcli.model.personal import resolve
    from hwcli.styles.library import add_style

    torch.set_num_threads(1)
    import hwcli.styles.adapt as adapt_mod

    # the library's choice settings, overridden for this run (read where they are used, so setting them here works)
    for name, value in (("PASS_SLACK", args.pass_slack), ("NLL_SLACK", args.nll_slack)):
        if value is not None:
            setattr(adapt_mod, name, value)
    if args.check_cer is not None:
        adapt_mod.ADAPTED_DEFAULTS["check_cer"] = args.check_cer
    ds = load_dataset(args.data)
    ref = load_reference()
    rec = load_recognizer()
    # the second judge's enrolment: the reference writers' real lines, as personal ink is normalised
    from hwcli.strokes import to_points
    from hwcli.styles.ink import normalise

    where = {lid: i for i, lid in enumerate(ds.line_ids)}
    hinge_ref = {w: [normalise(to_points(ds.line(where[lid])), cleaned=True,
                               letters=len(ds.texts[where[lid]].replace(" ", ""))) for lid in ids if lid in where]
                 for w, ids in ref["line_ids"].items()}
    hinge_ref = {w: [o for o in v if len(o) > 10] for w, v in hinge_ref.items()}
    # the third judge's crowd: trainset writers, disjoint from the reference (testset_v) writers imitated here
    distractors = None
    if args.distractors:
        import numpy as np

        from hwcli.styles.likeness import dataset_features

        by_writer: dict = {}
        for i in ds.indices(["trainset"]):
            if int(ds.writer_ids[i]) >= 0:
                by_writer.setdefault(int(ds.writer_ids[i]), []).append(int(i))
        pool = sorted(w for w, ids in by_writer.items() if len(ids) >= 30)
        pick = sorted(np.random.default_rng(0).choice(pool, min(args.distractors, len(pool)), replace=False).tolist())
        distractors = {str(w): dataset_features(ds, by_writer[w][:30]) for w in pick}
    tmp = Path(tempfile.mkdtemp(prefix="imitation-"))
    os.environ.setdefault("HWCLI_HOME", str(tmp / "home"))
    for w in list(ref["writers"])[args.skip: args.skip + args.writers]:
        idx = sorted((i for i in range(len(ds)) if int(ds.writer_ids[i]) == int(w) and ds.splits[i] == "testset_v"),
                     key=lambda i: ds.line_ids[i])
        ds.subset(idx[: args.lines]).save(tmp / f"{w}-mine.npz")
        ds.subset(idx[args.lines: args.lines + args.like]).save(tmp / f"{w}-like.npz")
        like = prepare_lines(read_ink([tmp / f"{w}-like.npz"]), rec.alphabet)
        for adapt in ([False] if args.no_adapt else [True] if args.suffix or args.adapted_only else [False, True]):
            name = f"w{w}{'a' if adapt else 'p'}{args.suffix if adapt else ''}"
            t0, c0 = time.time(), cpu_s()
            if args.eval_only:
                from hwcli.model.personal import find_style

                ps = find_style(name)
                if ps is None:  # the earlier run skipped this writer (e.g. a one-letter line among its first)
                    print(json.dumps({"writer": w, "adapted": adapt, "skipped": f"no style {name!r} from an earlier run"}),
                          flush=True)
                    break
            else:
                try:
                    ps = add_style(name, [tmp / f"{w}-mine.npz"], model=args.model, adapt=adapt, replace=True, seed=args.seed,
                                   adapt_options={"steps": args.steps, "time_limit": args.time_limit, "lr": args.lr,
                                                  "reg_share": args.reg_share,
                                                  **({} if args.mix is None else
                                                     {"mix_shares": tuple(float(x) for x in args.mix.split(",") if x)}),
                                                  **({} if args.freeze is None else
                                                     {"freeze": tuple(f for f in args.freeze.split(",") if f)})})
                except HwcliError as exc:  # e.g. a one-letter line among the writer's first lines
                    print(json.dumps({"writer": w, "adapted": adapt, "skipped": str(exc)}), flush=True)
                    break
            t_add, c_add = time.time() - t0, cpu_s() - c0
            bundle, (key,) = resolve(None, [name])
            # --copies: for a style whose adapted network was kept (it writes with the personal bundle's defaults)
            copies = args.copies if adapt and (ps.info.get("adapt") or {}).get("kept", True) else None
            for bias in [float(b) for b in args.bias.split(",") if b] or [None]:
                t1 = time.time()
                res = evaluate_imitation(bundle, key, like, rec, bias=bias, check=True, seed=args.seed, tesseract=args.tesseract,
                                         hinge_reference=hinge_ref, distractors=distractors,
                                         copies=copies)
                row = {"writer": w, "adapted": adapt, "bias": bias, "seed": args.seed, "add_wall_s": round(t_add, 1),
                       "add_cpu_s": round(c_add, 1), "copies": copies, "eval_wall_s": round(time.time() - t1, 1), **res,
                       "adapt": ps.info.get("adapt"), "prime": ps.style.text,
                       "geometry": ps.info.get("selection", {}).get("geometry")}
                print(json.dumps(row), flush=True)
                with open(args.out, "a") as fh:
                    fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()

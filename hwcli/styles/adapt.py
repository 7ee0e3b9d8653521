"""Adapt the synthesis network to one writer: a short fine-tune from a bundle on the writer's lines.

This is `hwcli train --init BUNDLE` (the one training loop, `training.train`) on a small dataset made here:

- the writer's lines, cleaned and normalised (`style_ink`), repeated so they make up ``1 - reg_share`` of
  every epoch; every `HOLDOUT`-th line is held out as the validation set, so the loop exports only weights that
  model the writer's *unseen* lines better than the bundle does;
- a ``reg_share`` of regularisation lines, so the network keeps writing legibly while it learns the hand. No
  IAM-OnDB data is installed, so they come from the bundle itself: the priming lines of its built-in styles
  (real IAM-OnDB ink of several writers) and lines the bundle samples now in those styles (replay of what it
  writes: a pull back towards the starting network, as in rehearsal / self-distillation).

The attention (the window layer and layer 1's input weights, `ADAPT_FREEZE`) stays as the bundle has it: a
writer's 20 lines teach it nothing it needs and moving it loses letters; the hand lives in the other layers
(imitation benchmark: adaptation kept for more writers and nearer their hands by both judges).
A small constant learning rate and few steps keep the run within minutes on a CPU. The held-out lines narrow
down which weights are kept: on IAM-OnDB writers their NLL stops improving after 20-50 steps (each writer line
seen ~10-20 times) while the training NLL keeps falling (memorising), so the loop validates every steps/6 steps.
Then the weights are chosen by how they *write* (`choose_weights`): every validated step whose held-out NLL is
within `NLL_SLACK` of the best writes the same short lines in the writer's hand; of those whose lines pass the
adapted read-back check (no stalled attention, CER <= 0.12) nearly as often as the best (`PASS_SLACK`), the one
whose lines are nearest the writer's own in stroke features (`likeness.distribution_distance`: slant, width,
lifts, ...) is kept. Choosing by read-back alone lost hands (issue 27: a narrow, spiky, looped cursive came out
as a generic tidy hand; on 11 unseen writers adaptation gained nothing over priming on average): where
legibility and likeness pull apart, likeness now decides within the legibility bound. And the bundle priming
alone writes the same lines: when the adapted choice is no nearer the writer's hand (or much less legible,
`PASS_DROP`), it is not shipped (`keeps_adaptation`), and the style stays primed, saying why. Steps with nearly the same
held-out NLL write very differently: writer 10029's best-NLL step stalled in 13 of 48 segments, a step
0.02 nats/point behind it in 2; stalled and misread segments are what make a personal page slow to write.
Measured choices (benchmarks/imitation.py, 4 unseen writers): replay lines sampled whole and unchecked as
below identified the writer in 61% of generated lines (priming alone 46%); shorter replay lines kept only when
the recognizer read them right did worse (27% against 52% on the 3 writers tried), as did lr 1e-4 (1 writer).
"""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import OptionError

HOLDOUT = 10  # every 10th writer line is held out for validation (at least one)
NLL_SLACK = 0.08  # nats/point: validated steps this close to the best held-out NLL are compared by their writing
PASS_SLACK = 0.1  # of those, the steps whose lines pass the checks this close to the best are compared by likeness
LIKENESS_MARGIN = 0.0  # the adapted network is kept only when its lines are nearer the writer's than priming's by this
PASS_DROP = 0.2  # ... and only when no more than this share fewer of its lines pass the checks than priming's
SELECTION_ROWS = 48  # sampled lines that compare them (the calibration texts, in the writer's first lines)
#: Blends of the chosen step with the bundle it was adapted from (weights: share x adapted + (1 - share) x
#: bundle) that are compared with it: a blend writes between the two hands, and reads as the bundle does more
#: often. Empty: the chosen step stands (see `choose_weights`). Off: with (0.5, 0.75) a blend was chosen for 2 of
#: 10 unseen writers (benchmarks/imitation.py --seed 2 --mix 0.5,0.75), and both imitated and read worse (README).
MIX_SHARES: tuple = ()
ADAPT_FREEZE = ("window", "l1_wh")  # kept as the base has them while adapting: the attention and what it feeds
# (benchmarks/imitation.py, 11 unseen writers, seeds 0 / 1: every layer 63%/66% and 65%/69% by LDA/hinge, frozen
# attention 66%/70% and 71%/75%; adaptation kept for 9 against 7 and 9 against 8 writers; README "Which layers adapt")
# An adapted network writes the writer's hand, slips included, so its lines are read back more strictly: a
# segment reading back above CER 0.12 is resampled, up to 5 times. On 4 unseen IAM-OnDB writers (30 lines each,
# adapted on 20), recognizer CER 10.8% -> 7.9% and writer identification 55% -> 58%, for ~30% more sampling time.
ADAPTED_DEFAULTS = {"check_cer": 0.12, "retries": 5}
REPLAY_TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Pack my box with five dozen liquor jugs!",
    "How vexingly quick daft zebras jump",
    "Sphinx of black quartz, judge my vow.",
    "We met at 10:45 on the 3rd of June, 1987.",
    "Is it true? \"Yes\", she said; (not really).",
    "A small garden with roses and tall trees",
    "Please write back soon - with love, Anna",
    "The river runs past the old mill at dawn",
    "Jim quickly won 26 prizes & 9 medals",
    "Every morning the baker opens at seven",
    "It's a long way home; let's go together",
    "Zoe mixed 48 jars of jam + 7 of honey",
    "Quiet rooms, warm light and good books",
]
#: Replay lines holding the characters of the set beyond IAM-OnDB's (accents, symbols): an adapted network must
#: not forget them. Together they hold every character of `CHARSET` outside `DEFAULT_CHARS` (a test checks);
#: written for adaptation, disjoint from `hwcli eval`'s sets (a test checks that too).
REPLAY_CHARSET_TEXTS = [
    "Ren\u00e9e ate cr\u00eape, p\u00e2t\u00e9 and b\u00fbche at No\u00ebl's caf\u00e9",
    "\u00c0 bient\u00f4t, \u00c9milie! \u00c7a va, gar\u00e7on? \u00e8 \u00e0 l'\u00ceLE",
    "M\u00fcller \u00e4\u00dft K\u00e4se \u00fcber \u00d6l; \u00c4RGER \u00dcBEL",
    "Za\u017c\u00f3\u0142\u0107 g\u0119\u015bl\u0105 ja\u017a\u0144 \u2013 \u017b\u00d3\u0141\u0106 \u0118 \u015a\u0104 \u0179 \u0143",
    "P\u0159\u00edli\u0161 \u017elu\u0165ou\u010dk\u00fd k\u016f\u0148 \u00fap\u011bl \u010f\u00e1belsk\u00e9 \u00f3dy",
    "\u0158\u00cdJEN \u010cESK\u00dd \u0160\u0164\u010e\u0147 \u017d\u016e\u00dd \u011a\u00c9 \u00c1",
    "\u013dudia v \u0139\u00c1ZNI, \u013eahk\u00fd k\u013ab, v\u0155ba \u0154",
    "\u00c1rv\u00edzt\u0171r\u0151 t\u00fck\u00f6rf\u00far\u00f3g\u00e9p \u0150 \u0170 \u00da",
    "\u0218tefan \u0219i \u021aara \u021bin \u0103 \u0102 \u00ee \u00e2; \u0162ar\u0103 \u0163",
    "\u0130stanbul'da \u0131l\u0131k ya\u011fmur, DA\u011e, \u015eeker \u015f",
    "\u0110ur\u0111a i \u0161\u0107 \u2014 Sm\u00f8rrebr\u00f8d \u00d8 \u00e5 \u00c5 \u00e6 \u00c6",
    "\u00deetta er \u00fe\u00e6r, \u00d0\u00f3ra \u00f0 \u2022 \u0153uvre \u0152 \u00ff \u0178",
    "\u00bfQui\u00e9n? \u00a1Se\u00f1or! \u00d1 \u00f2 \u00d2 \u00ec \u00cc \u00f9 \u00d9 \u00f5 \u00d5 \u00e3 \u00c3",
    "\u00ab Ol\u00e1 \u00bb \u00c2 \u00ca \u00d4 \u00db \u00cb \u00cf \u00c8 \u00ea \u00eb \u00ef \u00ee",
    "Pay \u20ac12, \u00a39, \u00a5800 or 50\u00a2 at 21\u00b0C \u00a7 4 \u00d7 2 \u00f7 3 \u00b1 1",
    "Mail sam_lee@host.net #12 $5 <b> = ~x ^2 a|b {c} \\d `e`",
]
REPLAY_CHARSET_SHARE = 0.5  # of the sampled replay lines, where the bundle's alphabet goes beyond IAM-OnDB's


@dataclass
class AdaptResult:
    bundle: object  # the adapted Bundle (loaded from the written files)
    record: dict  # what was done and measured: steps, time, validation NLL before and after


def replay_texts(alphabet, k: int) -> list[str]:
    """`k` texts for replay lines: `REPLAY_TEXTS`, with a `REPLAY_CHARSET_SHARE` of `REPLAY_CHARSET_TEXTS`
    interleaved where `alphabet` holds characters beyond IAM-OnDB's (each such text cut down to the characters
    the alphabet has, kept when one beyond IAM-OnDB's is left), so that an adapted network keeps them."""
    from ..alphabet import DEFAULT_CHARS

    plain = [t for t in REPLAY_TEXTS if all(c in alphabet for c in t)]
    extra = []
    for t in REPLAY_CHARSET_TEXTS:
        t = " ".join("".join(c for c in t if c in alphabet).split())
        if any(c not in DEFAULT_CHARS for c in t):
            extra.append(t)
    out, ie, ip = [], 0, 0
    for j in range(k):  # spread evenly, so that every style (rows are dealt to styles in turn) replays both
        if extra and (not plain or int((j + 1) * REPLAY_CHARSET_SHARE) > int(j * REPLAY_CHARSET_SHARE)):
            out.append(extra[ie % len(extra)])
            ie += 1
        elif plain:
            out.append(plain[ip % len(plain)])
            ip += 1
    return out


def regularisation_lines(bundle, n: int, seed: int = 0) -> list[tuple[np.ndarray, str]]:
    """Up to `n` (normalised offsets, text) lines the bundle offers: its styles' real priming lines first (those
    holding characters beyond IAM-OnDB's first of all), then lines it samples in its styles (check off: the
    bundle's own hand, as it is), a share of them holding the set's characters beyond IAM-OnDB's where the
    bundle has them (`replay_texts`)."""
    from ..alphabet import DEFAULT_CHARS
    from ..synthesis import SamplingOptions, synthesize

    primes = [s for s in bundle.styles if len(s.strokes) > 10]
    primes.sort(key=lambda s: all(c in DEFAULT_CHARS for c in s.text))  # stable: new characters first
    out = [(s.strokes, s.text) for s in primes][:n]
    k = n - len(out)
    if k > 0:
        texts = replay_texts(bundle.alphabet, k)
        n_styles = max(len(bundle.styles), 1)
        by_style: dict = {}
        for j in range(k):
            by_style.setdefault(j % n_styles, []).append(texts[j % len(texts)])
        for st, ts in by_style.items():
            res = synthesize(bundle, ts, SamplingOptions(style=st if bundle.styles else None, seed=seed + st,
                                                         retries=1, check=False, segment_chars=0))
            out += [(r.strokes, r.text) for r in res if r.ok and len(r.strokes) > 10]
    return out


def held_out(n: int) -> set[int]:
    """Which of a writer's `n` lines are held out (testset_v in the style's ink.npz, validation when adapting):
    every `HOLDOUT`-th line."""
    return set(range(HOLDOUT - 1, n, HOLDOUT))


def _likeness(outs, texts, real: np.ndarray, unit: np.ndarray) -> float:
    """Feature-distribution distance (`likeness.distribution_distance`) of sampled lines from the writer's."""
    from .likeness import distribution_distance, features

    gen = features([(o.strokes, t) for o, t in zip(outs, texts) if len(o.strokes) > 10])
    return distribution_distance(gen, real, unit) if len(gen) else float("inf")


def blend(adapted, base, share: float):
    """`adapted` with its weights moved to ``share * adapted + (1 - share) * base`` (same network), in place."""
    from ..model.bundle import mean_weights

    adapted.network.load_state_dict(mean_weights([adapted.network.state_dict(), base.network.state_dict()],
                                                 [share, 1.0 - share]))
    return adapted


def choose_weights(work: Path, metrics: list[dict], lines, recognizer=None, seed: int = 0,
                   check_cer: float = ADAPTED_DEFAULTS["check_cer"],
                   progress: Callable[[int, int], None] | None = None, base=None,
                   mix_shares: tuple = MIX_SHARES) -> tuple[Path | None, list[dict]]:
    """Of the validated steps exported in `work` (``snap-STEP``), the one that writes most like the writer among
    those that write legibly (see the module docstring): its bundle path, and per compared step what was
    measured. None when no step was validated (the loop's best export stands).

    Compared are the steps whose held-out NLL per point is within `NLL_SLACK` of the best. Each samples the same
    `SELECTION_ROWS` lines (the calibration texts primed with the writer's first lines of 12-50 characters) with
    one seed; a line passes when it passes the sampling checks (attention reached the end, never stalled, sane
    extents) and, with a `recognizer`, reads back within `check_cer`. Of the steps whose pass rate is within
    `PASS_SLACK` of the best, the one whose lines are nearest the writer's own `lines` in feature distribution
    (`likeness.distribution_distance`, in the reference writers' within-writer units) is chosen. With `base`
    (the bundle adapted from), it writes the same lines primed alone; its row is ``step 0`` (never chosen here:
    `adapt_bundle` compares it with the choice). With `base` and `mix_shares`, blends of the chosen step with
    `base` (`blend`) are measured too (rows with ``mix``, the adapted share) and the same rule chooses among the
    step and its blends; a chosen blend is written to `work` and its path returned."""
    from ..model.bundle import Style, load_model, save_bundle
    from ..synthesis import STALLED, SamplingOptions, line_checker, synthesize
    from ..texts import CALIBRATION
    from .likeness import features, load_reference, within_writer_unit

    vals = [(int(m["step"]), float(m["val_nll_point"])) for m in metrics
            if int(m.get("step", 0)) > 0 and m.get("val_nll_point") is not None
            and (work / f"snap-{int(m['step']):06d}.json").exists()]
    if not vals:
        return None, []
    best = min(v for _, v in vals)
    cands = sorted((st, v) for st, v in vals if v <= best + NLL_SLACK)
    pool = [ln for ln in lines if 12 <= len(ln.text) <= 50] or list(lines)
    primes = [Style("writer", ln.text, ln.offsets, source=ln.name) for ln in pool[:3]]
    texts = [CALIBRATION[(j // len(primes)) % len(CALIBRATION)] for j in range(SELECTION_ROWS)]
    real = features([(ln.offsets, ln.text) for ln in lines])
    unit = within_writer_unit(load_reference())
    def measure(b, st, v) -> dict:
        b.network.eval()
        res = []  # the rows of each prime, one pass each, whole lines, no resampling, read back below
        for p, prime in enumerate(primes):
            res += synthesize(b, texts[p::len(primes)], SamplingOptions(style=prime, seed=seed + 1, retries=0,
                                                                         check=False, segment_chars=0))
        ok = [r.ok for r in res]
        if recognizer is not None:
            cers = line_checker(b, recognizer)([r.strokes for r in res], [r.text for r in res])
            ok = [g and float(c) <= check_cer for g, c in zip(ok, cers)]
        return {"step": st, "val_nll_point": None if v is None else round(v, 4),
                "passed": round(sum(ok) / len(ok), 3), "stalled": sum(r.reason == STALLED for r in res),
                "likeness_distance": round(_likeness(res, [r.text for r in res], real, unit), 4)}

    def pick(rows: list[dict]) -> dict:
        top = max(m["passed"] for m in rows)
        return min((m for m in rows if m["passed"] >= top - PASS_SLACK), key=lambda m: (m["likeness_distance"], -m["passed"]))

    measured = []
    shares = [float(x) for x in mix_shares if 0.0 < float(x) < 1.0] if base is not None else []
    todo = [(st, v) for st, v in cands] + ([(0, None)] if base is not None else [])
    total = len(todo) + len(shares)
    for k, (st, v) in enumerate(todo):
        measured.append(measure(base if st == 0 else load_model(work / f"snap-{st:06d}"), st, v))
        if progress:
            progress(k + 1, total)
    chosen = pick([m for m in measured if m["step"] > 0])
    path = work / f"snap-{chosen['step']:06d}.json"
    if shares:
        blends = []
        for j, share in enumerate(shares):
            b = blend(load_model(path), base, share)
            row = measure(b, chosen["step"], chosen["val_nll_point"])
            row["mix"] = round(share, 4)
            blends.append((row, b))
            measured.append(row)
            if progress:
                progress(len(todo) + j + 1, total)
        best = pick([chosen] + [r for r, _ in blends])
        if best is not chosen:
            b = next(b for r, b in blends if r is best)
            path = save_bundle(work / f"mix-{chosen['step']:06d}", b.network, b.config, b.alphabet, b.scale,
                               defaults=b.defaults, styles=b.styles,
                               provenance={**b.provenance, "blend": {"adapted_share": best["mix"]}},
                               meta=b.meta).with_suffix(".json")
            chosen = best
    chosen["chosen"] = True
    return path, measured


def adapt_bundle(base, model_spec: str, lines, folder: Path, stem: str, seed: int = 0,
                 steps: int = 60, time_limit: float = 480.0, reg_share: float = 0.3, lr: float = 3e-4,
                 batch_size: int = 12, progress: Callable[[str, int, int], None] | None = None,
                 freeze: tuple = ADAPT_FREEZE, recognizer=None, select: bool = True, compare_primed: bool = True,
                 mix_shares: tuple = MIX_SHARES) -> AdaptResult:
    """Fine-tune `base` (loaded from `model_spec`) on the writer's `lines` (`style_ink.InkLine`); write the
    personal bundle ``folder/stem.json`` + ``.safetensors``. See the module docstring. `select`: choose the
    weights by their writing (`choose_weights`, read back with `recognizer` when given); else the validated step
    with the best held-out NLL is kept. `compare_primed` (with `select`): the chosen weights are written only when
    they imitate the writer better than priming `base` alone (`keeps_adaptation`); otherwise no bundle is written,
    the result's bundle is `base` and its record says ``kept: false`` and why."""
    from ..data.dataset import Dataset
    from ..model.bundle import load_model, save_bundle
    from ..training.synthesis import TrainOptions, train

    if not 0.0 <= reg_share < 1.0:
        raise OptionError("reg_share must be in [0, 1)")
    if steps < 1 or time_limit <= 0:
        raise OptionError("adaptation needs at least one step and a positive time limit")
    held = held_out(len(lines)) or {len(lines) - 1}  # the loop needs at least one line to validate on
    train_lines = [ln for i, ln in enumerate(lines) if i not in held]
    val_lines = [ln for i, ln in enumerate(lines) if i in held]
    repeat = 3
    n_reg = int(round(repeat * len(train_lines) * reg_share / (1.0 - reg_share))) if reg_share > 0 else 0
    if progress:
        progress("preparing regularisation lines", 0, 1)
    reg = regularisation_lines(base, n_reg, seed) if n_reg else []
    unit = np.array([base.scale, base.scale, 1.0], np.float32)  # training divides by the bundle's scale
    offs, texts, ids, splits = [], [], [], []
    for ln in train_lines * repeat:
        offs.append(ln.offsets * unit), texts.append(ln.text), ids.append(ln.name), splits.append("trainset")
    for o, t in reg:
        o = o.copy()
        o[0] = (0.0, 0.0, 1.0)
        offs.append(o * unit), texts.append(t), ids.append("regularisation"), splits.append("trainset")
    for ln in val_lines:
        offs.append(ln.offsets * unit), texts.append(ln.text), ids.append(ln.name), splits.append("testset_v")
    ds = Dataset.from_lines(offs, texts, ids, [0] * len(offs), splits, {"stats": {"scale": base.scale}})
    work = folder / ".adapt"
    opts = TrainOptions(out=str(work), init=model_spec, batch_size=batch_size, lr=lr, lr_half_life=1e9, lr_min=lr,
                        warmup=10, max_steps=steps, time_limit=time_limit, val_every=max(steps // 6, 5), val_lines=0,
                        ckpt_minutes=1e9, seed=seed, preview=False, device="cpu", freeze=tuple(freeze),
                        snapshots=select)

    def on_step(d: dict) -> None:
        if progress:
            progress("adapting the network", int(d["step"]), int(d["max_steps"] or steps))

    t0, c0 = time.time(), time.process_time()
    result = train(ds, opts, progress=on_step, data_desc=f"{len(lines)} personal lines + {len(reg)} regularisation lines")
    before = next((m for m in result.metrics if m.get("step") == 0), {})
    chosen, compared = None, []
    if select:
        chosen, compared = choose_weights(
            work, result.metrics, train_lines, recognizer, seed,
            progress=(lambda d, t: progress("choosing the adapted weights", d, t)) if progress else None,
            base=base if compare_primed else None, mix_shares=mix_shares)
    wall, cpu = time.time() - t0, time.process_time() - c0  # training and the choice
    kept, why = True, None
    if chosen is not None:
        pick = next(m for m in compared if m.get("chosen"))
        primed = next((m for m in compared if m["step"] == 0), None)
        kept, why = keeps_adaptation(pick, primed)
    adapted = load_model(chosen or result.bundle)
    prov = dict(adapted.provenance)
    prov["adapted_from"] = model_spec
    if kept:
        defaults = {**adapted.defaults, **ADAPTED_DEFAULTS}
        save_bundle(folder / stem, adapted.network, adapted.config, adapted.alphabet, adapted.scale,
                    defaults=defaults, styles=base.styles, provenance=prov, meta=adapted.meta)
    shutil.rmtree(work, ignore_errors=True)
    record = {"from": model_spec, "steps": result.step, "stopped_by": result.stopped_by,
              "wall_time_s": round(wall, 1), "cpu_time_s": round(cpu, 1), "writer_lines": len(train_lines), "held_out_lines": len(val_lines),
              "regularisation_lines": len(reg), "reg_share": reg_share, "lr": lr, "batch_size": batch_size,
              "val_nll_point_before": before.get("val_nll_point"), "val_nll_point_after": result.best_val_point,
              "best_step": prov.get("step")}
    if chosen is not None:
        pick = next(m for m in compared if m.get("chosen"))
        record.update(best_step=pick["step"], val_nll_point_after=pick["val_nll_point"], compared=compared,
                      adapted_share=pick.get("mix", 1.0))
    record.update(kept=kept, not_kept_because=why)
    return AdaptResult(load_model(folder / stem) if kept else base, record)


def keeps_adaptation(adapted: dict, primed: dict | None) -> tuple[bool, str | None]:
    """Whether the chosen adapted step (a `choose_weights` row) is worth shipping against priming alone (its
    ``step 0`` row): only when it writes nearer the writer's hand, and not much less legibly; else (False, why)."""
    if primed is None:
        return True, None
    if adapted["likeness_distance"] >= primed["likeness_distance"] - LIKENESS_MARGIN:
        return False, (f"the adapted network wrote less like your lines than priming alone (feature distance "
                       f"{adapted['likeness_distance']:.2f} against {primed['likeness_distance']:.2f})")
    if adapted["passed"] < primed["passed"] - PASS_DROP:
        return False, (f"the adapted network wrote less legibly than priming alone ({adapted['passed']:.0%} of its "
                       f"lines passed the read-back check against {primed['passed']:.0%})")
    return True, None

"""Training the synthesis (and prediction) network: its options, loss, validation and export, run by `loop.run`.

The loss is the mixture density NLL of the next pen move (Graves eq. 26) per real point; validation is the NLL
per line and per point on a fixed subset of ``testset_v`` (split into rare and plain lines when some lines
hold rare characters). ``--init BUNDLE`` starts from a bundle's weights, architecture, alphabet and scale,
validates them first (step 0) so that only a better network is exported, and carries the bundle's styles,
sampling defaults and letter width into the exported bundles.
"""
from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..alphabet import Alphabet, data_alphabet
from ..data.dataset import TRAIN_SPLITS, VALID_SPLIT, Dataset
from ..errors import DatasetError, OptionError
from ..model import mdn
from ..model.bundle import Style, save_bundle
from ..model.grow import grow_synthesis_state, grown
from .marks import SharedMarks
from ..model.network import NetworkConfig, build_network
from .data import LineData, rare_characters, split_indices, validation_subset
from .distributed import dist_info, distributed
from .loop import CKPT_NAME, LoopOptions, device_for, lr_at, optimizer_step, resume_checkpoint, run

log = logging.getLogger(__name__)


SELECT_MODES = ("nll", "readback", "readback-ocr")


@dataclass(frozen=True)
class TrainOptions(LoopOptions):
    out: str = "runs/hwcli"  # output directory: checkpoint, metrics.jsonl, previews, bundles
    kind: str = "synthesis"  # "synthesis" or "prediction" (--unconditional)
    hidden: int = 256  # LSTM cells per layer
    layers: int = 3  # LSTM layers
    window_k: int = 10  # attention window Gaussians
    mixtures: int = 20  # output mixture components
    preview: bool = True  # write a preview SVG of sampled lines at each validation
    init: str | None = None  # start from this bundle's weights (name or path); its architecture, alphabet and scale win
    rare_weight: float = 1.0  # lines holding a rare character are sampled this many times as often per epoch
    rare_jitter: float = 0.06  # each extra copy of a rare line is distorted by up to this much (scale, shear)
    select: str = "nll"  # which checkpoint is best: "nll", "readback" (recognizer) or "readback-ocr" (+ tesseract)
    select_lines: int = 40  # lines per set (testset_v and generated hard lines) that --select readback samples
    freeze: tuple = ()  # names (prefixes) of parameters kept as they start, e.g. ("window",) when adapting
    neat_weight: float = 1.0  # lines the bundled recognizer reads back within neat_cer are sampled this many times as often
    neat_cer: float = 0.02
    grow_alphabet: bool = False  # with init: the bundle's alphabet grown to hwcli's whole character set (model/grow.py)
    share_marks: float = 0.0  # > 0: accent marks learned once for all letters, at this multiple of lr (training/marks.py)

    def __post_init__(self) -> None:
        if self.kind not in ("synthesis", "prediction"):
            raise OptionError(f"unknown model kind {self.kind!r}")
        for name in ("hidden", "layers", "window_k", "mixtures"):
            if getattr(self, name) < 1:
                raise OptionError(f"--{name.replace('_', '-')} must be a positive integer")
        if not (math.isfinite(self.rare_weight) and 1.0 <= self.rare_weight <= 20.0):
            raise OptionError("--rare-weight must be between 1 and 20")
        if not (math.isfinite(self.rare_jitter) and 0.0 <= self.rare_jitter <= 0.3):
            raise OptionError("--rare-jitter must be between 0 and 0.3")
        if self.select not in SELECT_MODES:
            raise OptionError(f"unknown --select {self.select!r}: use {', '.join(SELECT_MODES)}")
        if self.select != "nll" and self.kind != "synthesis":
            raise OptionError("--select readback needs a synthesis network (a prediction network has no text to read)")
        if not (math.isfinite(self.neat_weight) and 1.0 <= self.neat_weight <= 20.0):
            raise OptionError("--neat-weight must be between 1 and 20")
        if not (math.isfinite(self.neat_cer) and 0.0 <= self.neat_cer <= 1.0):
            raise OptionError("--neat-cer must be between 0 and 1")
        if not 1 <= self.select_lines <= 1000:
            raise OptionError("--select-lines must be between 1 and 1000")
        if self.grow_alphabet and not self.init:
            raise OptionError("--grow-alphabet needs --init (a fresh run takes every character of the set that its data holds)")
        if not (math.isfinite(self.share_marks) and 0.0 <= self.share_marks <= 100.0):
            raise OptionError("--share-marks must be between 0 (off) and 100")
        if self.share_marks and self.kind != "synthesis":
            raise OptionError("--share-marks needs a synthesis network (a prediction network reads no text)")
        super().__post_init__()


@dataclass
class TrainResult:
    step: int
    epoch: float
    best_val_point: float | None
    best_val_line: float | None
    bundle: str | None
    stopped_by: str
    metrics: list = field(default_factory=list)
    replica_digest: str | None = None  # under DDP: `param_digest` of the weights, the same on every rank


def train_step(model, net: torch.nn.Module, optim: torch.optim.Optimizer, opts: TrainOptions, mixtures: int,
               step: int, x, tgt, mask, oh) -> tuple:
    """One optimizer step on a batch, as `train` takes it (the throughput benchmark times this). `model` is
    `net` or its DDP wrapper. Returns (summed NLL, real points, loss) as tensors."""
    total, npts, loss = nll_loss(model, mixtures, x, tgt, mask, oh)
    optimizer_step(net, optim, loss, lr_at(opts, step), opts.clip)
    return total, npts, loss


def nll_loss(model, mixtures: int, x, tgt, mask, oh) -> tuple:
    """(summed NLL, real points, NLL per point) of a batch (Graves eq. 26)."""
    y, _, _ = model(x, oh)
    total = mdn.nll(y, tgt, mask, mixtures)
    npts = mask.sum()
    return total, npts, total / npts


class SynthesisTask:
    """The synthesis / prediction network for `loop.run`: NLL loss, NLL validation, bundle export."""

    train_metric = "train_nll_point"
    rate_name = "seq_per_s"
    best_metric = "val_nll_point"

    def __init__(self, ds: Dataset, opts: TrainOptions, state: dict | None, device: torch.device, data_desc: str,
                 scorer: Callable[[object], dict] | None = None):
        self.opts, self.device, self.ds = opts, device, ds
        if opts.select != "nll":
            # past a point a lower NLL reads worse (scripts/model_recipe.json): choose by reading back instead
            if scorer is None:
                raise OptionError("--select readback needs a read-back scorer (hwcli.recognizer.selection.readback_scorer)")
            self.best_metric = "readback_cer"
        self.scorer = scorer
        alphabet = data_alphabet(ds)
        scale = ds.scale
        cfg = NetworkConfig(kind=opts.kind, hidden=opts.hidden, layers=opts.layers, window_k=opts.window_k,
                            mixtures=opts.mixtures, alphabet_size=len(alphabet))
        init = None
        if state is not None:
            cfg = NetworkConfig.from_dict(state["config"])
            # the checkpoint's normalisation and alphabet, so a run started with --init keeps the bundle's
            scale = float(state.get("scale", scale))
            alphabet = Alphabet(state.get("alphabet", alphabet.chars))
        elif opts.init:
            init = init_from_bundle(opts.init)
            if init.config.kind != opts.kind:
                raise OptionError(f"--init {opts.init}: a {init.config.kind} model cannot start a {opts.kind} run"
                                  + (" (add --unconditional)" if init.config.kind == "prediction" else ""))
            # the bundle's architecture, alphabet and normalisation: its weights mean nothing with others
            cfg, alphabet, scale = init.config, init.alphabet, init.scale
            if opts.grow_alphabet:
                alphabet = grown(init.alphabet)
                cfg = replace(cfg, alphabet_size=len(alphabet))
        self.cfg, self.alphabet, self.scale, self.init = cfg, alphabet, scale, init
        train_idx, valid_idx = split_indices(ds)
        self.tdata = LineData(ds, train_idx, alphabet, scale, opts.max_len)
        self.vdata = LineData(ds, valid_idx if len(valid_idx) else train_idx[:1], alphabet, scale, opts.max_len)
        if len(self.tdata) == 0:
            raise DatasetError("no usable training lines (all too long or with unknown characters)")
        rare = rare_characters(self.tdata.texts, alphabet)
        self.tdata.mark_rare(rare)
        self.vdata.mark_rare(rare)
        self.val_ids = validation_subset(len(self.vdata), opts.val_lines, opts.seed)
        if opts.neat_weight > 1.0:
            self.tdata.mark_neat(neat_lines(self.tdata, opts.neat_cer, scale))

        torch.manual_seed(opts.seed)
        self.net = build_network(cfg).to(device)
        if init is not None:
            weights = init.network.state_dict()
            if alphabet.chars != init.alphabet.chars:
                weights = grow_synthesis_state(weights, init.alphabet, alphabet, opts.seed)
            self.net.load_state_dict(weights)
        if opts.freeze:
            names = [n for n, _ in self.net.named_parameters()]
            for prefix in opts.freeze:
                if not any(n.startswith(prefix) for n in names):
                    raise OptionError(f"freeze {prefix!r}: the network has no such parameters ({', '.join(names)})")
            for n, p in self.net.named_parameters():
                p.requires_grad_(not any(n.startswith(prefix) for prefix in opts.freeze))
        self.marks = None
        if opts.share_marks:
            self.marks = SharedMarks(self.net, alphabet, opts.share_marks)
            if not self.marks.active:
                raise OptionError("--share-marks: the alphabet has no accented letters (add --grow-alphabet)")
            if state is not None and state.get("marks") is not None:
                self.marks.load_state_dict(state["marks"])
        _, world = dist_info()
        self.run_info = {"data": data_desc, "train_lines": len(self.tdata), "valid_lines": len(self.val_ids),
                         "splits_train": list(TRAIN_SPLITS), "split_valid": VALID_SPLIT, "options": asdict(opts),
                         "world_size": world, "rare_chars": "".join(sorted(rare)),
                         "rare_train_lines": int(self.tdata.rare.sum()), "neat_train_lines": int(self.tdata.neat.sum())}
        if state is not None and state.get("init"):
            self.run_info["init"] = state["init"]
        elif init is not None:
            self.run_info["init"] = {"model": opts.init, "steps": init.provenance.get("steps"),
                                     "wall_time_s": init.provenance.get("wall_time_s"),
                                     "val_nll_point": init.provenance.get("val_nll_point")}
        # what a run started with --init keeps of its bundle: sampling defaults, styles and letter width
        self.carry: dict = dict(state.get("carry") or {}) if state is not None else {}
        if init is not None:
            self.carry = {"defaults": dict(init.defaults), "styles": [st.to_json() for st in init.styles],
                          "char_width": init.meta.get("char_width")}

    def batches(self, epoch: int) -> list[list[int]]:
        return self.tdata.epoch_batches(self.opts.seed, epoch, self.opts.batch_size, self.opts.rare_weight,
                                        self.opts.neat_weight)

    def loss(self, model, ids: list[int], epoch: int, pos: int, rank: int) -> tuple:
        rng = np.random.default_rng([self.opts.seed, epoch, pos, rank])
        x, tgt, mask, oh = self.tdata.batch(ids, self.device, self.opts.rare_jitter, rng)
        total, npts, loss = nll_loss(model, self.cfg.mixtures, x, tgt, mask, oh)
        return loss, total.detach(), npts

    def validate(self, step: int) -> dict:
        rec = evaluate(self.net, self.vdata, self.val_ids, self.opts.batch_size, self.cfg.mixtures, self.device)
        rec.update(self.readback())
        if self.opts.preview:
            _preview(Path(self.opts.out) / f"preview-{step:06d}.svg", self.net, self.cfg, self.alphabet, self.scale,
                     self.vdata, self.device)
        return rec

    def best_of(self, rec: dict) -> dict:
        return {k: rec[k] for k in ("val_nll_line", "val_nll_point", "step", self.best_metric)}

    def readback(self) -> dict:
        """With --select readback: the network's lines sampled and read back by the run's `scorer`."""
        if self.opts.select == "nll":
            return {}
        from ..model.bundle import DEFAULT_SAMPLING, Bundle

        c = self.carry
        bundle = Bundle(self.net, self.cfg, self.alphabet, self.scale,
                        defaults={**DEFAULT_SAMPLING, **(c.get("defaults") or {})},
                        styles=[Style.from_json(d) for d in c.get("styles", [])])
        try:
            self.net.eval()
            return self.scorer(bundle)
        finally:
            self.net.train()

    def baseline(self) -> dict | None:
        """With --init: the starting point's validation NLL, which an export has to beat."""
        if self.init is None:
            return None
        return {"step": 0, "init": self.opts.init, **evaluate(self.net, self.vdata, self.val_ids, self.opts.batch_size,
                                                              self.cfg.mixtures, self.device), **self.readback()}

    def export(self, out: Path, provenance: dict) -> str:
        c = self.carry
        return str(save_bundle(out, self.net, self.cfg, self.alphabet, self.scale, provenance=provenance,
                               defaults=c.get("defaults"), styles=[Style.from_json(d) for d in c.get("styles", [])],
                               meta={"char_width": c.get("char_width") or _char_width(self.ds)}))

    def after_step(self, lr: float) -> None:
        if self.marks is not None:
            self.marks.step(lr)

    def checkpoint_state(self) -> dict:
        return {"config": self.cfg.to_dict(), "scale": self.scale, "alphabet": self.alphabet.chars,
                "init": self.run_info.get("init"), "carry": self.carry,
                "marks": None if self.marks is None else self.marks.state_dict()}


def train(
    ds: Dataset,
    opts: TrainOptions,
    resume: bool = False,
    progress: Callable[[dict], None] | None = None,
    data_desc: str = "",
    scorer: Callable[[object], dict] | None = None,
) -> TrainResult:
    """Train (or resume from ``OUT/checkpoint.pt``) a network on `ds` with `loop.run`; under torchrun, with DDP.
    `progress` gets a dict per step (see `loop.run`). `scorer` (bundle -> dict with ``readback_cer``, e.g.
    `recognizer.selection.readback_scorer`) judges checkpoints with ``opts.select`` other than "nll"."""
    with distributed(opts):
        rank, _ = dist_info()
        if opts.threads:
            torch.set_num_threads(opts.threads)
        device = device_for(opts)
        if device.type == "cuda":
            torch.cuda.set_device(device)  # NCCL collectives without a tensor (barrier) use the current device
        out = Path(opts.out)
        if rank == 0:
            out.mkdir(parents=True, exist_ok=True)
        state = resume_checkpoint(out / CKPT_NAME) if resume else None
        if state is not None:
            from ..model.checkpoint import check_resume

            check_resume(state, out / CKPT_NAME, "prediction" if opts.kind == "prediction" else "any-synthesis", {})
        task = SynthesisTask(ds, opts, state, device, data_desc, scorer)
        res = run(task, opts, state, device, data_desc, progress)
    best = res.best or {}
    return TrainResult(res.step, res.epoch, best.get("val_nll_point"), best.get("val_nll_line"), res.bundle,
                       res.stopped_by, res.metrics, res.replica_digest)


@torch.no_grad()
def evaluate(net, data: LineData, ids: list[int], batch_size: int, mixtures: int, device) -> dict:
    """Validation NLL in nats per line and per point; when some lines are marked rare (`LineData.mark_rare`),
    also per point on the rare lines (``val_nll_point_rare``) and on the others (``val_nll_point_plain``)."""
    net.eval()
    sums = {True: [0.0, 0.0], False: [0.0, 0.0]}  # rare? -> [nats, points]
    order = sorted(ids, key=lambda i: data.lengths[i])
    for s in range(0, len(order), batch_size):
        chunk = order[s : s + batch_size]
        x, tgt, mask, oh = data.batch(chunk, device)
        y, _, _ = net(x, oh)
        per_line = mdn.nll_per_line(y, tgt, mask, mixtures)
        pts = mask.sum(1)
        for j, i in enumerate(chunk):
            acc = sums[bool(data.rare[i])]
            acc[0] += float(per_line[j])
            acc[1] += float(pts[j])
    net.train()
    total, points = sums[True][0] + sums[False][0], sums[True][1] + sums[False][1]
    rec = {"val_nll_line": total / max(len(ids), 1), "val_nll_point": total / max(points, 1.0)}
    if sums[True][1] > 0 and sums[False][1] > 0:
        rec["val_nll_point_rare"] = sums[True][0] / sums[True][1]
        rec["val_nll_point_plain"] = sums[False][0] / sums[False][1]
    return rec


def neat_lines(data: LineData, max_cer: float, scale: float) -> np.ndarray:
    """Which training lines the bundled recognizer reads back within `max_cer`: the neater hands. (It learnt
    from these lines, so it reads most of them well; what it still misreads is the sloppiest writing.)"""
    from ..recognizer.network import load_recognizer
    from ..recognizer.reading import cer, read_strokes

    rec = load_recognizer()
    out = np.zeros(len(data), bool)
    for s in range(0, len(data), 256):
        chunk = list(range(s, min(s + 256, len(data))))
        hyps = read_strokes(rec, [data.seqs[i].numpy() for i in chunk], scale)  # lines normalised by `scale`
        for i, h in zip(chunk, hyps):
            out[i] = cer(" ".join(data.texts[i].split()), " ".join(h.split())) <= max_cer
    return out


def init_from_bundle(spec: str):
    """The bundle `--init` names (a bundled model's name or a path): its network, config, alphabet and scale."""
    from ..model.bundle import load_model

    return load_model(spec)


def _char_width(ds: Dataset) -> float:
    """Median advance per character in normalised units: the page layout's width estimate."""
    w = []
    for i in range(0, len(ds), max(1, len(ds) // 500)):
        o = ds.line(i)
        n = len(ds.texts[i])
        if n >= 5:
            w.append(float(np.ptp(np.cumsum(o[:, 0]))) / n)
    return float(np.median(w) / ds.scale) if w else 2.5


def _preview(path: Path, net, cfg, alphabet, scale, vdata: LineData, device) -> None:
    """A few sampled validation texts, so a person can watch the model learn."""
    try:
        from ..data.preview import write_preview
        from ..model.bundle import Bundle
        from ..model.sampling import sample_batch

        b = Bundle(net, cfg, alphabet, scale)
        if cfg.kind == "synthesis":  # through the synthesis pass, as `hwcli write` samples (unchecked, one try)
            from ..synthesis import SamplingOptions, synthesize

            texts = [vdata.texts[i] for i in range(min(3, len(vdata)))]
            res = synthesize(b, texts, SamplingOptions(bias=1.0, seed=0, check=False, retries=0, segment_chars=0,
                                                       max_steps_per_char=30))
            strokes = [r.strokes for r in res]
        else:  # the unconditional network writes no text: the sampling loop itself
            texts = ["", "", ""]
            outs = sample_batch(b, texts, 1.0, torch.Generator().manual_seed(0), None, 30, unconditional_steps=300)
            strokes = [o.strokes for o in outs]
        n = len(strokes)
        samples = Dataset.from_lines(strokes, texts, [f"step {path.stem[8:]}"] * n, [-1] * n, [""] * n)
        write_preview(samples, path, n=n)
    except Exception as exc:  # noqa: BLE001 - a preview must never stop training
        log.warning("preview failed: %s", exc)
    finally:
        net.train()

"""`hwcli train`: train a synthesis (or prediction) network and export a model bundle."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import Device, check_resume_early, clean_progress, err_console, given_options, handle_errors, parse_duration


def train_cmd(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option("--data", help="IAM-OnDB directory/tarballs, InkML, or a converted .npz.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory: checkpoint, metrics.jsonl, previews, best.json/.safetensors.")] = Path("runs/hwcli"),
    unconditional: Annotated[bool, typer.Option("--unconditional", help="Train the prediction network (section 4) instead of synthesis.")] = False,
    hidden: Annotated[int, typer.Option(help="LSTM cells per layer.")] = 256,
    layers: Annotated[int, typer.Option(help="Stacked LSTM layers.")] = 3,
    window_k: Annotated[int, typer.Option("--window-k", help="Gaussians in the attention window.")] = 10,
    mixtures: Annotated[int, typer.Option(help="Mixture components of the output.")] = 20,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Lines per step (per process).")] = 32,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 1e-3,
    lr_half_life: Annotated[float, typer.Option("--lr-half-life", help="Steps for the learning rate to halve.")] = 2500.0,
    max_steps: Annotated[Optional[int], typer.Option("--max-steps", help="Stop after this many steps in total.")] = None,
    epochs: Annotated[Optional[float], typer.Option(help="Stop after this many epochs.")] = None,
    time_limit: Annotated[Optional[str], typer.Option("--time-limit", help="Stop after this long, e.g. 2h, 90m, 1h30m.")] = None,
    val_every: Annotated[int, typer.Option("--val-every", help="Validate every N steps.")] = 250,
    val_lines: Annotated[int, typer.Option("--val-lines", help="Validation lines used (0 = all of testset_v).")] = 512,
    device: Annotated[Device, typer.Option(help="Where to train.")] = Device.auto,
    threads: Annotated[int, typer.Option(help="CPU threads for torch (0 = default).")] = 0,
    seed: Annotated[int, typer.Option(help="Random seed (initialisation and data order).")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from OUT/checkpoint.pt.")] = False,
    init: Annotated[Optional[str], typer.Option("--init", help="Start from this bundle's weights (a bundled model's name, e.g. hwcli-synthesis, or a path); its architecture, alphabet, scale, styles and defaults are kept.")] = None,
    grow_alphabet: Annotated[bool, typer.Option("--grow-alphabet", help="With --init: grow the bundle's alphabet to hwcli's whole character set (its characters keep their weights; each new one starts from the character it is written most like: é from e, € from C).")] = False,
    share_marks: Annotated[float, typer.Option("--share-marks", help="Learn each accent mark once for every letter that carries it, its shared weights stepped at this multiple of --lr (0 = off; e.g. 5 after --grow-alphabet).")] = 0.0,
    rare_weight: Annotated[float, typer.Option("--rare-weight", help="Sample lines holding a rare character (digits, most capitals, rare punctuation) this many times as often.")] = 1.0,
    rare_jitter: Annotated[float, typer.Option("--rare-jitter", help="Distort each extra copy of a rare line by up to this much (scale and shear).")] = 0.06,
    neat_weight: Annotated[float, typer.Option("--neat-weight", help="Sample the lines the bundled recognizer reads back within --neat-cer (the neater hands) this many times as often.")] = 1.0,
    neat_cer: Annotated[float, typer.Option("--neat-cer", help="Largest read-back CER of a line that counts as neat.")] = 0.02,
    select: Annotated[str, typer.Option("--select", help="Which checkpoint is exported as best: nll (lowest validation loss), readback (its sampled lines read back best by the recognizer) or readback-ocr (by the recognizer and tesseract).")] = "nll",
    select_lines: Annotated[int, typer.Option("--select-lines", help="Lines per set (testset_v, generated hard lines) that --select readback samples.")] = 40,
    snapshots: Annotated[bool, typer.Option("--snapshots", help="Also export every validated step as OUT/snap-STEP, to compare them afterwards (e.g. with `hwcli eval --model`).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Train a network on IAM-OnDB and export the best checkpoint as a model bundle.

    Example: hwcli train --data ../shared/iam-ondb --time-limit 2h --out runs/main
    """
    import os

    from ..data.convert import detect_kind, load_dataset
    from ..training import TrainOptions, train

    opts = TrainOptions(
        out=str(out), kind="prediction" if unconditional else "synthesis", hidden=hidden, layers=layers,
        window_k=window_k, mixtures=mixtures, batch_size=batch_size, lr=lr, lr_half_life=lr_half_life,
        max_steps=max_steps, epochs=epochs, time_limit=parse_duration(time_limit) if time_limit else None,
        val_every=val_every, val_lines=val_lines, seed=seed, device=device.value, threads=threads,
        init=init, grow_alphabet=grow_alphabet, share_marks=share_marks, rare_weight=rare_weight, rare_jitter=rare_jitter, snapshots=snapshots,
        select=select, select_lines=select_lines, neat_weight=neat_weight, neat_cer=neat_cer,
    )
    detect_kind(data)  # fail fast with a clear message before anything else
    if select == "readback-ocr":
        from ..evaluation.ocr import tesseract_path

        tesseract_path("--select readback-ocr")  # missing tesseract: one line now, not after the first validation
    from ..fileio import check_output_dir

    check_output_dir(out)
    if resume:
        check_resume_early(out, "prediction" if unconditional else "any-synthesis",
                           given_options(ctx, ("hidden", "layers", "window_k", "mixtures")))
    elif init:
        from ..model.bundle import load_model

        from ..errors import OptionError

        start = load_model(init)  # a bad --init fails now, not after the data is read
        if start.config.kind != opts.kind:
            raise OptionError(f"--init {init}: a {start.config.kind} model cannot start a {opts.kind} run"
                              + (" (add --unconditional)" if start.config.kind == "prediction" else ""))
        # --init keeps the bundle's architecture: a typed --hidden 128 that differs would be silently ignored
        diff = [f"--{k.replace('_', '-')} {v} (bundle: {getattr(start.config, k)})"
                for k, v in given_options(ctx, ("hidden", "layers", "window_k", "mixtures")).items()
                if v is not None and getattr(start.config, k, v) != v]
        if diff:
            raise OptionError(f"--init continues the bundle's network, but {', '.join(diff)} differ: leave these "
                              "options out (the bundle's architecture is kept), or train a new network without --init")
        del start
    world = int(os.environ.get("WORLD_SIZE", "1"))  # under torchrun, `train` sets up DDP itself
    rank = int(os.environ.get("RANK", "0"))
    show = not quiet and rank == 0
    if show:
        err_console.print(f"loading {data} ...")
    ds = load_dataset(data)
    scorer = None
    if select != "nll":
        from ..evaluation.selection import readback_scorer

        scorer = readback_scorer(ds, select_lines, seed, tesseract=select == "readback-ocr")
    if show:
        err_console.print(f"{len(ds)} lines; training {opts.kind} network {layers} x {hidden} -> {out}")

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    total = max_steps
    with clean_progress(Progress(TextColumn("[bold]train"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
                  TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=err_console, disable=not show, transient=False)) as bar:
        task = bar.add_task("train", total=total, info="")

        def on_step(p: dict) -> None:
            tot = p["max_steps"]
            if tot is None and p["time_limit"]:
                # a time-limited run: show progress in time, as steps
                tot = int(p["step"] * p["time_limit"] / max(p["elapsed"], 1e-9))
            bar.update(task, completed=p["step"], total=tot,
                       info=f"loss {p['loss']:.3f}  {p['seq_per_s']:.1f} seq/s  lr {p['lr']:.1e}  epoch {p['epoch']}")

        res = train(ds, opts, resume=resume, progress=on_step, data_desc=str(data), scorer=scorer)
    if show:
        err_console.print(
            f"stopped ({res.stopped_by}) at step {res.step}; best validation NLL "
            f"{res.best_val_point:.4f} nats/point, {res.best_val_line:.1f} nats/line; bundle {res.bundle}"
        )
        if res.replica_digest:
            err_console.print(f"{world} processes ended with identical weights (sha256 {res.replica_digest})")


def register(app: typer.Typer) -> None:
    app.command("train")(handle_errors(train_cmd))

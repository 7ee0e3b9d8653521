"""`hwcli train-recognizer`: train the handwriting reader (CTC) and export it as a recognizer bundle."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import Device, check_resume_early, clean_progress, err_console, given_options, handle_errors, parse_duration


def train_recognizer_cmd(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option("--data", help="IAM-OnDB directory/tarballs, InkML, or a converted .npz.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory: checkpoint.pt, metrics.jsonl, best.json/.safetensors.")] = Path("runs/recognizer"),
    hidden: Annotated[int, typer.Option(help="LSTM cells per direction and layer.")] = 128,
    layers: Annotated[int, typer.Option(help="Bidirectional LSTM layers.")] = 2,
    conv_channels: Annotated[int, typer.Option("--conv-channels", help="Channels of the input convolutions.")] = 64,
    dropout: Annotated[float, typer.Option(help="Dropout between layers.")] = 0.1,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Lines per step.")] = 32,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 2e-3,
    lr_half_life: Annotated[float, typer.Option("--lr-half-life", help="Steps for the learning rate to halve.")] = 6000.0,
    max_steps: Annotated[Optional[int], typer.Option("--max-steps", help="Stop after this many steps in total.")] = None,
    epochs: Annotated[Optional[float], typer.Option(help="Stop after this many epochs.")] = None,
    time_limit: Annotated[Optional[str], typer.Option("--time-limit", help="Stop after this long, e.g. 30m, 1h30m.")] = None,
    val_every: Annotated[int, typer.Option("--val-every", help="Validate, checkpoint and export every N steps.")] = 400,
    val_lines: Annotated[int, typer.Option("--val-lines", help="Validation lines read while training (0 = all of testset_v).")] = 300,
    augment: Annotated[bool, typer.Option("--augment/--no-augment", help="Random size, slant and rotation of training lines.")] = True,
    device: Annotated[Device, typer.Option(help="Where to train.")] = Device.auto,
    threads: Annotated[int, typer.Option(help="CPU threads for torch (0 = default).")] = 0,
    seed: Annotated[int, typer.Option(help="Random seed (initialisation, data order, augmentation).")] = 0,
    init: Annotated[Optional[str], typer.Option("--init", help="Start from a recognizer bundle's weights (a path, or hwcli-recognizer for the bundled one); its architecture and alphabet win.", show_default=False)] = None,
    grow_alphabet: Annotated[bool, typer.Option("--grow-alphabet", help="With --init: grow the bundle's alphabet to hwcli's whole character set (its characters keep their weights; each new one starts from the character it is written most like: é from e, € from C).")] = False,
    reorder_delayed: Annotated[bool, typer.Option("--reorder-delayed", help="Read delayed strokes (i-dots, t-bars, accent marks written after the word) where their letter is: the points are put in reading order before the network sees them. With --init it switches a bundle trained without it over (train long enough to relearn).")] = False,
    split_marks: Annotated[bool, typer.Option("--split-marks", help="Read accented letters as their letter and a mark (é = e + acute), each mark one class shared by every letter that carries it, so it is learnt from all of them. With --init the bundle's classes are remapped.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from OUT/checkpoint.pt.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Train the recognizer (conv + bidirectional LSTM, CTC) that `hwcli eval` and self-checking use.

    Example: hwcli train-recognizer --data iam.npz --time-limit 30m --threads 1 --out runs/recognizer
    (then copy OUT/best.json and OUT/best.safetensors to models/hwcli-recognizer.*)
    """
    from ..data.convert import detect_kind, load_dataset
    from ..training.recognizer import RecognizerTrainOptions, train_recognizer

    opts = RecognizerTrainOptions(
        out=str(out), hidden=hidden, layers=layers, conv_channels=conv_channels, dropout=dropout,
        batch_size=batch_size, lr=lr, lr_half_life=lr_half_life, max_steps=max_steps, epochs=epochs,
        time_limit=parse_duration(time_limit) if time_limit else None, val_every=val_every, val_lines=val_lines,
        augment=augment, seed=seed, device=device.value, threads=threads, init=init, grow_alphabet=grow_alphabet,
        reorder_delayed=reorder_delayed, split_marks=split_marks,
    )
    detect_kind(data)  # fail fast with a clear message before loading anything
    if init and not resume:
        from ..recognizer.network import load_recognizer

        load_recognizer(init)  # a missing or broken bundle is one clear line before the data loads
    from ..fileio import check_output_dir

    check_output_dir(out)
    if resume:
        check_resume_early(out, "recognizer", given_options(ctx, ("hidden", "layers", "conv_channels", "dropout", "reorder_delayed", "split_marks")))
    if not quiet:
        err_console.print(f"loading {data} ...")
    ds = load_dataset(data)
    if not quiet:
        err_console.print(f"{len(ds)} lines; training recognizer {layers} x {hidden} (bidirectional) -> {out}")

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with clean_progress(Progress(TextColumn("[bold]train-recognizer"), BarColumn(), TextColumn("{task.completed} steps"),
                  TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=err_console, disable=quiet)) as bar:
        task = bar.add_task("train", total=max_steps, info="")

        def on_step(p: dict) -> None:
            tot = p["max_steps"]
            if tot is None and p["time_limit"]:
                tot = int(p["step"] * p["time_limit"] / max(p["elapsed"], 1e-9))
            best = f"  best CER {p['best']:.3f}" if p["best"] is not None else ""
            bar.update(task, completed=p["step"], total=tot,
                       info=f"ctc {p['loss']:.3f}  {p['lines_per_s']:.1f} lines/s  epoch {p['epoch']}{best}")

        res = train_recognizer(ds, opts, resume=resume, progress=on_step, data_desc=str(data))
    if not quiet:
        cer = f"{res.best_val_cer:.4f}" if res.best_val_cer is not None else "n/a"
        err_console.print(f"stopped ({res.stopped_by}) at step {res.step}; best validation CER {cer}; bundle {res.bundle}")


def register(app: typer.Typer) -> None:
    app.command("train-recognizer")(handle_errors(train_recognizer_cmd))

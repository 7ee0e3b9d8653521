"""`hwcli eval`: how legible is the model? Sample lines, read them back with the recognizer, score them."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import choices, err_console, handle_errors

COLUMNS = ("style", "bias", "check", "lines", "cer", "wer", "failed", "resampled", "sample_s_per_line", "read_ms_per_line",
           "classes", "ocr_cer", "ocr_wer", "ocr_classes", "chars", "set_classes", "ocr_chars", "ocr_set_classes", "ocr_empty", "readings")
CHAR_TARGET = 0.85  # the target: the recognizer reads each character of the set right this often


LineSet = choices("LineSet", ("ordinary", "hard", "charset", "everyday"))
Reader = choices("Reader", ("recognizer", "tesseract"))


def _read_input(path: Path) -> list[str]:
    """Text lines to sample, read with the same checks as `hwcli write`'s input (UTF-8, not binary)."""
    from ..errors import InputTextError
    from .inputs import read_text

    lines = [" ".join(ln.split()) for ln in read_text(None, path).splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines:
        raise InputTextError(f"{str(path)!r} has no text lines")
    return lines


def eval_cmd(
    model: Annotated[Optional[Path], typer.Option("--model", "-m", help="Synthesis bundle (NAME.json); default: the bundled model.", show_default=False)] = None,
    recognizer: Annotated[Optional[Path], typer.Option("--recognizer", help="Recognizer bundle; default: the bundled hwcli-recognizer.", show_default=False)] = None,
    input: Annotated[Optional[Path], typer.Option("--input", "-i", help="Text lines to sample, one per line ('-' = stdin); default: a built-in set (--set).", show_default=False)] = None,
    line_set: Annotated[LineSet, typer.Option("--set", help="Built-in lines: 'ordinary' (100 unseen sentences), 'hard' (dates, times, phone numbers, prices, addresses, all-caps), 'charset' (every character of hwcli's set in several word contexts, each line written 3 times: a table per character and figures per class) or 'everyday' (e-mails, web addresses, prices, order numbers, temperatures, fractions, accented names and words in many languages).")] = LineSet.ordinary,
    reader: Annotated[Optional[list[Reader]], typer.Option("--reader", help="Who reads the lines: the bundled recognizer (always), and 'tesseract' for an independent OCR of each line rendered as on the page (needs the tesseract program).", show_default=False)] = None,
    lines: Annotated[Optional[int], typer.Option("--lines", "-n", min=1, help="Use the first N lines. [default: all]", show_default=False)] = None,
    style: Annotated[Optional[list[str]], typer.Option("--style", "-s", help="Style index, name or description word; repeat for several, or 'all'. [default: the model's default]", show_default=False)] = None,
    bias: Annotated[Optional[list[float]], typer.Option("--bias", "-b", help="Sampling bias; repeat for several. [default: the model's default]", show_default=False)] = None,
    check: Annotated[Optional[bool], typer.Option("--check/--no-check", help="Self-checking while sampling (read back, resample bad lines). [default: the model's default]", show_default=False)] = None,
    compare_check: Annotated[bool, typer.Option("--compare-check", help="Run every style x bias both with and without self-checking.")] = False,
    fail_cer: Annotated[Optional[float], typer.Option("--fail-cer", min=0.0, help="A line reading back with a CER above this counts as failed. [default: the model's report threshold, fail_cer]", show_default=False)] = None,
    reference: Annotated[Optional[Path], typer.Option("--reference", help="Dataset (.npz or IAM-OnDB) whose testset_v lines the readers read as the human reference (with --set hard: the lines holding digits or capitals).", show_default=False)] = None,
    reference_lines: Annotated[int, typer.Option("--reference-lines", min=0, help="Validation lines for --reference (a fixed subset; 0 = all).")] = 300,
    segment_chars: Annotated[Optional[int], typer.Option("--segment-chars", min=0, help="Write longer lines in segments of at most this many characters (0 = never split). [default: the model's default]", show_default=False)] = None,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    line_seeds: Annotated[bool, typer.Option("--line-seeds", help="Draw each line from its own random stream (the seed and its number), as batches of documents are drawn: a change that touches some lines leaves the others as they were, for steady A/B comparisons.")] = False,
    threads: Annotated[int, typer.Option(min=0, help="CPU threads for sampling (0 = torch's default; 1 is often faster on a busy CPU).")] = 0,
    like: Annotated[Optional[list[Path]], typer.Option("--like", help="A writer's real lines (InkML files/folder or .npz): also score how close each style's lines come to that hand (writer identification among IAM-OnDB testset_v writers, feature distance).", show_default=False)] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """Measure legibility: sample lines for each style x bias, read them back, print CER, WER, failed lines.

    Example:

        hwcli eval --style all --bias 0.5 --bias 1.0 --compare-check --reference iam.npz
    """
    from ..errors import OptionError, StyleNotFoundError, check_seed, check_threads
    from ..evaluation.legibility import eval_lines
    from ..recognizer.network import load_recognizer
    from ..synthesis import SamplingOptions

    check_seed(seed)
    check_threads(threads)
    ref_ds = None
    if reference is not None:
        from ..data.convert import load_dataset

        ref_ds = load_dataset(reference)  # a bad reference fails here, before any sampling
    use_ocr = Reader.tesseract in (reader or [])
    if use_ocr:
        from ..evaluation.ocr import tesseract_path

        tesseract_path()  # a clear error now, not after sampling
    if threads:
        import torch

        torch.set_num_threads(threads)
    rec = load_recognizer(recognizer)
    if ref_ds is not None:
        from ..errors import DatasetError
        from ..evaluation.legibility import reference_lines as ref_lines

        ref_set = "hard" if input is None and line_set == LineSet.hard else "ordinary"
        if not ref_lines(ref_ds, rec.alphabet, reference_lines, line_set=ref_set):
            what = "validation (testset_v) lines with digits or capitals" if ref_set == "hard" else "validation (testset_v) lines"
            raise DatasetError(f"--reference {str(reference)!r} has no {what} the recognizer can read")
    from ..model.personal import resolve

    bundle, style = resolve(model, style or [])  # personal styles join the bundle's styles
    if not bundle.is_synthesis:
        raise OptionError(f"{bundle.path!r} is a prediction (unconditional) model: eval needs a synthesis model")
    if like:
        from ..styles.ink import prepare_lines, read_ink

        real = prepare_lines(read_ink([str(p) for p in like]), bundle.alphabet)  # bad ink fails before sampling

    texts = _read_input(input) if input is not None else eval_lines(line_set=line_set.value)
    if lines is not None:
        texts = texts[:lines]
    from ..evaluation.legibility import CHARSET_SETS

    charset_set = input is None and line_set.value in CHARSET_SETS
    full = _full_set(model, bundle, style, texts)  # as `hwcli write` with no --model: lines it needs go to it
    writer = full or bundle
    if charset_set:
        # what the model lacks of the set is reported, not refused: each line is written without it
        texts, coverage = _written(texts, writer.alphabet, rec.alphabet)
    else:
        from ..charset import prepare_text

        texts = prepare_text(writer, "\n".join(texts)).split("\n")  # every unsupported character at once
        coverage = None
    ocr_languages = "eng"
    if use_ocr and (charset_set or any(ch.isalpha() and not ch.isascii() for t in texts for ch in t)):
        # accented letters (a built-in set of the whole character set, or --input lines holding them): tesseract
        # reads them only with the language data that has them
        from ..evaluation.ocr import accent_languages

        ocr_languages = accent_languages()

    keys = style or [None]
    if any(k == "all" for k in keys):
        keys = list(range(len(bundle.styles))) or [None]
    bad = []
    for k in keys:
        try:
            bundle.style(k)
        except StyleNotFoundError:
            bad.append(str(k))
    if bad:
        names = ", ".join(f"{i}: {s.name}" for i, s in enumerate(bundle.styles)) or "none"
        raise StyleNotFoundError(f"unknown style(s) {', '.join(bad)}; this model has: {names}")
    biases = bias or [bundle.sampling.bias]
    for b in biases:
        SamplingOptions(bias=b, segment_chars=segment_chars)  # validates the options before sampling
    first = bundle.sampling.check if check is None else check
    checks = [first, not first] if compare_check else [first]

    from ..evaluation.legibility import evaluate, evaluate_reference

    runs = [(k, b, c) for k in keys for b in biases for c in checks]
    rows = []
    for n, (k, b, c) in enumerate(runs, start=1):
        if not quiet:
            err_console.print(f"[{n}/{len(runs)}] style {k if k is not None else 'default'}, bias {b}, "
                              f"check {'on' if c else 'off'}: sampling {len(texts)} lines ...")
        rows.append(evaluate(bundle, rec, texts, k, b, c, seed=seed, fail_cer=fail_cer,
                             segment_chars=segment_chars, tesseract=use_ocr, ocr_languages=ocr_languages,
                             full=full, line_seeds=line_seeds).to_dict())
    ref = None
    if ref_ds is not None:
        if not quiet:
            err_console.print(f"reading real validation lines of {reference} ...")
        ref = evaluate_reference(ref_ds, rec, reference_lines, line_set=ref_set, tesseract_bundle=bundle if use_ocr else None)

    imitation = None
    if like:
        from ..evaluation.imitation import evaluate_imitation

        if not quiet:
            err_console.print(f"imitation: sampling the {len(real)} texts of {', '.join(map(str, like))} in each style ...")
        imitation = [evaluate_imitation(bundle, k, real, rec, biases[0], checks[0], seed) for k in keys]

    if json_out:
        doc = {"model": bundle.path, "full_set_model": full.path if full is not None else None, "recognizer": rec.path, "lines": len(texts), "seed": seed, "line_seeds": line_seeds,
               "set": "input" if input is not None else line_set.value,
               "segment_chars": bundle.sampling.segment_chars if segment_chars is None else segment_chars,
               "columns": list(COLUMNS), "rows": rows, "reference": ref, "imitation": imitation,
               "ocr_languages": ocr_languages if use_ocr else None, "coverage": coverage}
        typer.echo(json.dumps(doc, indent=1, ensure_ascii=False))
    else:
        _print_table(rows, ref, _model_label(bundle.path, None if full is None else full.path), rec.path)
        if charset_set:
            _print_charset(rows, coverage, per_char=line_set == LineSet.charset, ocr_languages=ocr_languages)
        if imitation:
            _print_imitation(imitation)


def _full_set(model, bundle, style, texts: list[str]):
    """The bundled full-set model (with the same styles, personal ones added) when no --model was given, the
    default bundle was taken and some of `texts` hold characters of the set it lacks or writes poorly, or a style
    is one it writes every line in (flagged `full_set`, `charset.writes_all`): `hwcli write` writes such lines with it, so eval
    does the same (`evaluate(..., full=...)`). Else None."""
    from ..charset import FULL_SET, needs_full_set, routes_to_full_set

    if not routes_to_full_set(model, bundle):
        return None
    if not any(needs_full_set(t, bundle.alphabet) for t in texts) and not _writes_all(bundle, style):
        return None
    from ..model.personal import resolve

    full, _ = resolve(FULL_SET, style or [])
    return full


def _writes_all(bundle, style) -> bool:
    """Whether the full-set model writes every line in one of the styles asked for (`charset.writes_all`); an
    unknown style is refused later, with every bad one named."""
    from ..charset import writes_all
    from ..errors import StyleNotFoundError

    keys = style or [None]
    if any(k == "all" for k in keys):
        keys = list(range(len(bundle.styles))) or [None]
    for k in keys:
        try:
            if writes_all(bundle, bundle.style(k)):
                return True
        except StyleNotFoundError:
            continue
    return False


def _written(texts: list[str], alphabet, rec_alphabet) -> tuple[list[str], dict]:
    """The lines as the model writes them (characters it lacks left out, as ``--on-unsupported skip``; a line
    left empty is dropped) and what was left out: ``coverage`` = {"refused_lines": lines that lost a character
    (what `hwcli write` would refuse), "lines": lines asked for, "not_in_model": characters of the lines the
    model lacks, "not_in_recognizer": characters written that the recognizer cannot read}."""
    from ..alphabet import CHARSET

    out, refused = [], 0
    for t in texts:
        w = " ".join(alphabet.prepare(t, "skip").split())
        refused += int(w != " ".join(alphabet.normalize(t).split()))
        if w:
            out.append(w)
    if not out:
        from ..errors import UnsupportedCharactersError

        raise UnsupportedCharactersError(alphabet.unsupported("\n".join(texts)))
    asked, written = set("".join(texts)), set("".join(out))
    order = {c: i for i, c in enumerate(CHARSET)}

    def listed(chars) -> str:
        return "".join(sorted(chars, key=lambda c: (order.get(c, len(order)), c)))

    return out, {"lines": len(texts), "refused_lines": refused,
                 "not_in_model": listed(c for c in asked if c not in alphabet and not c.isspace()),
                 "not_in_recognizer": listed(c for c in written if c not in rec_alphabet and not c.isspace())}


def _share(d: dict | None) -> str:
    if not d or not d.get("total"):
        return ""
    return f"{d['right'] / d['total']:.0%}"


def _print_charset(rows: list[dict], coverage: dict, per_char: bool, ocr_languages: str = "eng") -> None:
    """Figures per class of the character set and, for the charset set, a table per character."""
    from rich.console import Console
    from rich.table import Table

    from ..alphabet import CHAR_CLASSES, CHARSET

    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=180)
    ocr = any(r.get("ocr_chars") is not None for r in rows)
    t = Table(title="per class of the character set: share of characters read right",
              caption="rec: the bundled recognizer" + (f"; OCR: tesseract -l {ocr_languages}" if ocr else ""))
    t.add_column("style")
    for c in CHAR_CLASSES:
        t.add_column(f"{c} (rec)", justify="right")
        if ocr:
            t.add_column(f"{c} (OCR)", justify="right")
    for r in rows:
        cells = [f"{r['style']}, bias {r['bias']:g}, check {'on' if r['check'] else 'off'}"]
        for c in CHAR_CLASSES:
            cells.append(_share((r.get("set_classes") or {}).get(c)))
            if ocr:
                cells.append(_share((r.get("ocr_set_classes") or {}).get(c)))
        t.add_row(*cells)
    console.print(t)
    lacking, unread = coverage["not_in_model"], coverage["not_in_recognizer"]
    console.print(f"refused lines (holding characters the model lacks): {coverage['refused_lines']} of {coverage['lines']}"
                  + (f"; not in the model ({len(lacking)}): {lacking}" if lacking else "")
                  + (f"; not in the recognizer ({len(unread)}): {unread}" if unread else ""), markup=False)
    if not per_char:
        return
    groups = 4
    for r in rows:
        chars, ocr_chars = r.get("chars") or {}, r.get("ocr_chars") or {}
        t = Table(title=f"per character, {r['style']}, bias {r['bias']:g}, check {'on' if r['check'] else 'off'}: "
                        "times written, share read right")
        for _ in range(groups):
            t.add_column("char")
            t.add_column("n", justify="right")
            t.add_column("rec", justify="right")
            if ocr:
                t.add_column("OCR", justify="right")
        cells = []
        for ch in CHARSET:
            if ch.isspace():
                continue
            d = chars.get(ch)
            if ch in lacking:
                cells.append([ch, "", "not in the model"] + ([""] if ocr else []))
                continue
            row = [ch, str(d["total"]) if d else "0", "n/a" if ch in unread else _share(d)]
            if ocr:
                row.append(_share(ocr_chars.get(ch)))
            cells.append(row)
        per_row = (len(cells) + groups - 1) // groups
        for i in range(per_row):  # column-major: read down, then across
            line = []
            for g in range(groups):
                k = g * per_row + i
                line += cells[k] if k < len(cells) else [""] * (4 if ocr else 3)
            t.add_row(*line)
        console.print(t)
        weak = [ch for ch in CHARSET if not ch.isspace() and ch not in lacking and ch not in unread
                and chars.get(ch, {}).get("total") and chars[ch]["right"] / chars[ch]["total"] < CHAR_TARGET]
        console.print(f"read right by the recognizer less than {CHAR_TARGET:.0%} of the time ({len(weak)}): "
                      f"{''.join(weak) or 'none'}", markup=False)


def _pct(v) -> str:
    return "" if v is None else f"{v:.1%}"


def _acc(classes: dict | None, name: str) -> str:
    if not classes or not classes[name]["total"]:
        return ""
    return f"{classes[name]['accuracy']:.0%}"


def _model_label(model: str, full: str | None) -> str:
    """The table title's name of the bundle(s) that wrote the lines: file names, not paths (a path's folders
    would swallow the first name: "legibility of hwcli-charset)")."""
    name = Path(str(model)).name
    return name if full is None else f"{name} (lines with other characters of the set: {Path(str(full)).name})"


def _empty_note(rows: list[dict]) -> str:
    """The caption's word on lines tesseract read as nothing (they count as all wrong in OCR CER)."""
    n = sum(r.get("ocr_empty") or 0 for r in rows)
    return f"; tesseract read nothing in {n} line(s) with ink (counted as all wrong)" if n else ""


def _print_table(rows: list[dict], ref: dict | None, model: str, rec: str) -> None:
    from rich.console import Console
    from rich.table import Table

    ocr = any(r.get("ocr_cer") is not None for r in rows)
    t = Table(title=f"legibility of {model}, read by {Path(rec).name}" + (" and tesseract" if ocr else ""),
              caption="lower/caps/digits/punct: share of those characters the recognizer read right"
              + ("; OCR: tesseract, each line rendered as on the page" if ocr else "") + _empty_note(rows))
    cols = [("style", "left"), ("bias", "right"), ("check", "center"), ("lines", "right"), ("CER", "right"),
            ("WER", "right"), ("lower", "right"), ("caps", "right"), ("digits", "right"), ("punct", "right")]
    if ocr:
        cols += [("OCR CER", "right"), ("OCR WER", "right"), ("OCR digits", "right")]
    cols += [("failed", "right"), ("resampled", "right"), ("s/line", "right")]
    for name, just in cols:
        t.add_column(name, justify=just)
    for r in rows:
        c = r.get("classes")
        cells = [r["style"], f"{r['bias']:g}", "on" if r["check"] else "off", str(r["lines"]), _pct(r["cer"]),
                 _pct(r["wer"]), _acc(c, "lower"), _acc(c, "capitals"), _acc(c, "digits"), _acc(c, "punctuation")]
        if ocr:
            cells += [_pct(r.get("ocr_cer")), _pct(r.get("ocr_wer")), _acc(r.get("ocr_classes"), "digits")]
        cells += [_pct(r["failed"]), _pct(r["resampled"]), f"{r['sample_s_per_line']:.2f}"]
        t.add_row(*cells)
    if ref is not None:
        t.add_section()
        c = ref.get("classes")
        cells = ["real testset_v lines", "", "", str(ref["lines"]), _pct(ref["cer"]), _pct(ref["wer"]),
                 _acc(c, "lower"), _acc(c, "capitals"), _acc(c, "digits"), _acc(c, "punctuation")]
        if ocr:
            cells += [_pct(ref.get("ocr_cer")), _pct(ref.get("ocr_wer")), _acc(ref.get("ocr_classes"), "digits")]
        t.add_row(*cells, *[""] * (len(cols) - len(cells)))
    console = Console(highlight=False)
    if not console.is_terminal:  # piped: no terminal width to fit, keep every column readable
        console = Console(highlight=False, width=180)
    console.print(t)


def _print_imitation(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="imitation: generated vs the writer's real lines (see hwcli/imitation.py)")
    for name in ("style", "writer ID", "real lines' ID", "writers", "distance", "real vs others", "CER", "lines"):
        t.add_column(name, justify="left" if name == "style" else "right")
    for r in rows:
        t.add_row(r["style"], f"{r['generated_id']:.0%}", f"{r['real_id']:.0%}", str(r["writers"]), f"{r['distance']:.2f}",
                  f"{r['distance_real_vs_others']:.2f}", f"{r['cer']:.1%}" if "cer" in r else "", str(r["lines"]))
    Console(highlight=False, width=140).print(t)


def register(app: typer.Typer) -> None:
    app.command("eval")(handle_errors(eval_cmd))

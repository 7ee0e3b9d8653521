"""Evaluation: how what `hwcli.write` produces reads and whom it looks like.

- `legibility`: sampled lines and pages read back by the recognizer (``hwcli eval``), the built-in test sentences;
- `charset_sets`: the sentences of the character-set evaluation (accents, symbols);
- `selection`: checkpoints scored by how their writing reads (``hwcli train --select readback``);
- `imitation`: writer identification of personal styles against real writers' lines (features: `styles.likeness`);
- `hinge`: a second writer judge, hinge histograms of the pen's path;
- `ocr`: the independent reader, Tesseract OCR on rendered pages.
"""

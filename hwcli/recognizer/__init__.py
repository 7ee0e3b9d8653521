"""The reader: reads handwriting back as text, so hwcli can check its own lines and measure legibility.

- `network`: the recognizer network (conv + bidirectional LSTM, CTC) and its bundle (save / load);
- `reading`: greedy CTC decoding, CER / WER, the read-back checker `hwcli.synthesis` uses;
- `training`: its task for the shared training loop (`hwcli.training.loop`), ``hwcli train-recognizer``;
- `legibility`: sampled lines read back and scored (``hwcli eval``) and the built-in test sentences; it sits
  above the others (it measures what `hwcli.write` produces, page scale included);
- `selection`: checkpoints scored by how their writing reads (``hwcli train --select readback``), on lines
  kept apart from `legibility`'s built-in sets.

Nothing is imported here, so that sampling with checking loads only `network` and `reading`.
"""

"""The reader: reads handwriting back as text, so hwcli can check its own lines.

- `network`: the recognizer network (conv + bidirectional LSTM, CTC) and its bundle (save / load);
- `reading`: greedy CTC decoding, CER / WER, the read-back checker `hwcli.synthesis` uses.

Training it is a task of the shared loop (`hwcli.training.recognizer`); measuring what `hwcli.write` produces with
it lives in `hwcli.evaluation`. Nothing is imported here, so that sampling with checking loads only these two.
"""

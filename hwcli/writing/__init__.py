"""The write flow: text -> layout -> synthesis -> placement -> `Document` -> save.

- `document`: `write(text, ...) -> Document`, `Document.save`, `style_sheet`;
- `batch`: `write_many`, many documents in one process;
- `jobs`: the jobs of a many-document run (files, mail merge, shards).

(The folder is not called ``write``: importing ``hwcli.write`` as a package would hide the function
``hwcli.write``.) Nothing is imported here: `hwcli` imports what it exports on first use.
"""

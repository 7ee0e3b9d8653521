"""Capture: a local web page to write lines on with a pen or a finger (`server`: the server and its page).

Nothing is imported here: `hwcli capture` imports `hwcli.capture.server` when it runs."""

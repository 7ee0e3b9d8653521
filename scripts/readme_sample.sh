#!/bin/sh
# Regenerate docs/sample.png, the README's sample, with hwcli itself at the default style and bias.
set -e
cd "$(dirname "$0")/.."
hwcli write "Dear John, thank you for the lovely evening. The garden looked wonderful and the dinner was \
delicious. I hope we can meet again next week." --page-size 240x52 --margin 10 --dpi 110 --seed 1 -o docs/sample.png

"""Personal styles from a writer's own ink: clean it, choose a priming line and its geometry, adapt the network,
add the style to the user's folder (which `hwcli.model.personal` lists and resolves).

- `ink`: reading and cleaning the writer's ink (InkML, the capture page);
- `library`: the prime choice and geometry, staging and adding a style;
- `adapt`: fine-tuning a bundle on the writer's lines (``styles add --adapt``).
"""

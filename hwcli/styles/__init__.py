"""Personal styles from a writer's own ink: clean it, choose a priming line and its geometry, adapt the network,
add the style to the user's folder (which `hwcli.model.personal` lists and resolves).

- `ink`: reading and cleaning the writer's ink (InkML, the capture page);
- `priming`: the prime choice and its geometry;
- `likeness`: stroke features of a hand and the distance between two sets of lines (the reference writers);
- `library`: staging, adding and removing a style;
- `adapt`: fine-tuning a bundle on the writer's lines (``styles add --adapt``).
"""

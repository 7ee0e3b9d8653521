"""scripts/average_models.py: the weighted mean of bundles' weights, refused for networks that do not match."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from hwcli.alphabet import DEFAULT_CHARS
from tiny_bundle import make_bundle

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))
import average_models  # noqa: E402  (scripts/ is not a package)


def _weights(path):
    from hwcli.model.bundle import load_model

    return {k: v.clone() for k, v in load_model(path).network.state_dict().items()}


def test_average_is_the_weighted_mean_and_keeps_the_first_bundles_styles(tmp_path):
    a = make_bundle(tmp_path / "a", seed=1)
    b = make_bundle(tmp_path / "b", seed=2, styles=False)
    wa, wb = _weights(f"{a}.json"), _weights(f"{b}.json")
    out = average_models.average([f"{a}.json", f"{b}.json"], [3.0, 1.0])
    got = out.network.state_dict()
    for k in wa:
        assert not torch.equal(wa[k], wb[k]) or k.endswith("bias")
        torch.testing.assert_close(got[k], (0.75 * wa[k].double() + 0.25 * wb[k].double()).float())
    assert [s.name for s in out.styles] == ["neat", "loose", "small"]
    shares = [e["share"] for e in out.provenance["averaged"]]
    assert shares == [0.75, 0.25]
    assert out.provenance["data"] == "random weights (tests)"


def test_cli_writes_a_loadable_bundle_with_its_inputs_in_the_provenance(tmp_path):
    from hwcli.model.bundle import load_model

    a = make_bundle(tmp_path / "a", seed=1)
    b = make_bundle(tmp_path / "b", seed=2)
    proc = subprocess.run([sys.executable, str(SCRIPTS / "average_models.py"), f"{a}.json", f"{b}.json",
                           "-o", str(tmp_path / "soup")], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    soup = load_model(tmp_path / "soup.json")
    wa, wb = _weights(f"{a}.json"), _weights(f"{b}.json")
    for k, v in soup.network.state_dict().items():
        torch.testing.assert_close(v, ((wa[k].double() + wb[k].double()) / 2).float())
    doc = json.loads((tmp_path / "soup.json").read_text())
    sha_a = json.loads(Path(f"{a}.json").read_text())["tensors"]["sha256"]
    assert doc["provenance"]["averaged"][0] == {"bundle": f"{a}.json", "sha256": sha_a, "share": 0.5}


@pytest.mark.parametrize("other, why", [({"hidden": 8}, "network"), ({"chars": DEFAULT_CHARS.replace("Q", "@")}, "alphabet")])
def test_networks_that_do_not_match_are_refused(tmp_path, other, why):
    a = make_bundle(tmp_path / "a", seed=1)
    b = make_bundle(tmp_path / "b", seed=2, **other)
    proc = subprocess.run([sys.executable, str(SCRIPTS / "average_models.py"), f"{a}.json", f"{b}.json",
                           "-o", str(tmp_path / "soup")], capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    assert proc.stderr.startswith("average_models.py: error: ") and why in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "soup.json").exists()


def test_bad_shares_are_one_clear_error(tmp_path):
    a = make_bundle(tmp_path / "a", seed=1)
    b = make_bundle(tmp_path / "b", seed=2)
    for shares in (["1", "x"], ["1"], ["-1", "2"], ["0", "0"]):
        proc = subprocess.run([sys.executable, str(SCRIPTS / "average_models.py"), f"{a}.json", f"{b}.json",
                               "--weights=" + ",".join(shares), "-o", str(tmp_path / "soup")],
                              capture_output=True, text=True, check=False)
        assert proc.returncode != 0 and proc.stderr.startswith("average_models.py: error: "), proc.stderr
        assert not (tmp_path / "soup.json").exists()

"""hwcli capture: the local server (token, host check, InkML it writes) and the page in a real headless browser."""
from __future__ import annotations

import http.client
import json
import shutil
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from hwcli.alphabet import DEFAULT_CHARS
from hwcli.capture.server import SENTENCES, inkml_document, start
from hwcli.cli.app import app
from hwcli.data.dataset import Dataset
from hwcli.data.inkml import read_inkml


def test_sentences_cover_every_character_of_the_alphabet():
    missing = set(DEFAULT_CHARS) - set("".join(SENTENCES))
    assert not missing, missing
    assert all(15 <= len(s) <= 50 for s in SENTENCES)


def test_inkml_document_reads_back(tmp_path):
    strokes = [[[10, 20, 0, 0.5], [12.5, 21, 8, 0.6], [15, 25, 16, 0.4]], [[30, 20, 100, 0.5], [31, 28, 108, 0.5]]]
    p = tmp_path / "l.inkml"
    p.write_text(inkml_document('say "a < b" & go', strokes, "line-01"))
    (line,) = list(read_inkml(p))
    assert line.text == 'say "a < b" & go' and line.line_id == "line-01"
    assert np.allclose(line.points[:, :2], [[10, 20], [12.5, 21], [15, 25], [30, 20], [31, 28]])
    assert line.points[:, 2].tolist() == [0, 0, 1, 0, 1]


def _request(port, method, path, body=None, host=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    headers = {"Host": host} if host else {}
    c.request(method, path, body=json.dumps(body).encode() if body is not None else None, headers=headers)
    r = c.getresponse()
    return r.status, r.read()


def test_server_needs_the_token_and_loopback_host(tmp_path):
    server, session, url = start(tmp_path / "mine", ["abc def", "ghi jkl"])
    try:
        port = server.server_address[1]
        assert server.server_address[0] == "127.0.0.1"
        assert _request(port, "GET", "/")[0] == 404
        assert _request(port, "GET", "/wrongtoken/")[0] == 404
        assert _request(port, "GET", f"/{session.token}/", host="evil.example:80")[0] == 403
        code, body = _request(port, "GET", f"/{session.token}/state")
        assert code == 200 and json.loads(body) == {"sentences": ["abc def", "ghi jkl"], "saved": []}
        assert _request(port, "GET", f"/{session.token}/")[0] == 200
        assert _request(port, "POST", "/x/line", {"index": 0, "strokes": [[[0, 0, 0, 0]]]})[0] == 404
        assert _request(port, "POST", f"/{session.token}/line", {"index": 5, "strokes": [[[0, 0, 0, 0]]]})[0] == 400
        assert _request(port, "POST", f"/{session.token}/line", {"index": 0, "strokes": [[[0, "x", 0]]]})[0] == 400
        assert not list((tmp_path / "mine").iterdir())
        code, _ = _request(port, "POST", f"/{session.token}/line", {"index": 1, "strokes": [[[0, 0, 0, 0], [5, 5, 8, 0.5]]]})
        assert code == 200 and (tmp_path / "mine" / "line-02.inkml").is_file()
        assert _request(port, "POST", f"/{session.token}/done", {})[0] == 200
        assert session.finished.wait(5)  # set right after the reply is sent
    finally:
        server.shutdown()
        server.server_close()
    # a new session in the same folder starts with that line done
    server, session, _ = start(tmp_path / "mine", ["abc def", "ghi jkl"])
    server.shutdown()
    server.server_close()
    assert sorted(session.saved) == [1]


def _browser():
    """(chromium, chromedriver) paths, or skip with the reason."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
    chrome = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    driver = shutil.which("chromedriver")
    if not chrome or not driver:
        pytest.skip("no chromium/chromedriver found (apt-get install -y chromium chromium-driver)")
    return webdriver, chrome, driver


def test_capture_page_in_headless_chromium(tmp_path):
    webdriver, chrome, driver_path = _browser()
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    out = tmp_path / "mine"
    server, session, url = start(out, SENTENCES[:3])
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,800"):
        opts.add_argument(a)
    drv = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        drv.get(url)
        WebDriverWait(drv, 10).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1")
        assert drv.find_element(By.ID, "prompt").text == SENTENCES[0]
        pad = drv.find_element(By.ID, "pad")
        # a first attempt, thrown away with Redo
        ActionChains(drv).move_to_element_with_offset(pad, -300, 0).click_and_hold().move_by_offset(40, 40).release().perform()
        drv.find_element(By.ID, "redo").click()
        # three strokes: a zigzag, a loop-ish hook and a dot
        ch = ActionChains(drv).move_to_element_with_offset(pad, -400, 10).click_and_hold()
        for k in range(12):
            ch = ch.move_by_offset(12, -30 if k % 2 == 0 else 30)
        ch.release().perform()
        ch = ActionChains(drv).move_to_element_with_offset(pad, -200, 0).click_and_hold()
        for dx, dy in ((10, -25), (15, 0), (10, 25), (-5, 20), (-20, 5)):
            ch = ch.move_by_offset(dx, dy)
        ch.release().perform()
        ActionChains(drv).move_to_element_with_offset(pad, -100, -20).click_and_hold().move_by_offset(1, 1).release().perform()
        drv.find_element(By.ID, "save").click()
        WebDriverWait(drv, 10).until(lambda d: (out / "line-01.inkml").is_file())
        WebDriverWait(drv, 10).until(lambda d: d.find_element(By.ID, "prompt").text == SENTENCES[1])
        drv.find_element(By.ID, "done").click()
        assert session.finished.wait(10)
    finally:
        drv.quit()
        server.shutdown()
        server.server_close()

    (line,) = list(read_inkml(out / "line-01.inkml"))
    assert line.text == SENTENCES[0]
    strokes = np.flatnonzero(line.points[:, 2] > 0.5)
    assert len(strokes) == 3  # the redone attempt is gone
    xs = line.points[:, 0]
    assert 80 < xs.max() - xs.min() < 400  # CSS pixels, as drawn
    zig = line.points[: strokes[0] + 1]
    assert zig[:, 1].max() - zig[:, 1].min() >= 25

    # it converts, and the converted set round-trips through an InkML export
    runner = CliRunner()
    r = runner.invoke(app, ["convert", str(out), "-o", str(tmp_path / "mine.npz"), "-q"])
    assert r.exit_code == 0, r.output
    ds = Dataset.load(tmp_path / "mine.npz")
    assert ds.texts == [SENTENCES[0]] and len(ds.line(0)) > 10
    r = runner.invoke(app, ["convert", str(tmp_path / "mine.npz"), "-o", str(tmp_path / "back"), "-q"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["convert", str(tmp_path / "back"), "-o", str(tmp_path / "again.npz"), "-q"])
    assert r.exit_code == 0, r.output
    again = Dataset.load(tmp_path / "again.npz")
    assert again.texts == ds.texts
    assert np.array_equal(again.offsets, ds.offsets)


def test_capture_command_serves_until_the_page_says_done(tmp_path):
    """The installed `hwcli capture` prints its address, saves a line, and exits 0 when told it is done."""
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("hwcli")
    proc = subprocess.Popen([str(exe), "capture", "-o", str(tmp_path / "mine"), "--no-browser"], stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "COLUMNS": "200"})
    try:
        url = None
        for _ in range(50):
            m = re.search(r"http://127\.0\.0\.1:(\d+)/([\w-]+)/", proc.stderr.readline())
            if m:
                port, token = int(m.group(1)), m.group(2)
                url = m.group(0)
                break
        assert url, "no address printed"
        code, _ = _request(port, "POST", f"/{token}/line", {"index": 0, "strokes": [[[0, 0, 0, 0.5], [9, 4, 8, 0.5]]]})
        assert code == 200
        assert _request(port, "POST", f"/{token}/done", {})[0] == 200
        assert proc.wait(10) == 0
        rest = proc.stderr.read()
        assert "1 line(s) in" in rest and "hwcli styles add NAME" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
    (line,) = list(read_inkml(tmp_path / "mine" / "line-01.inkml"))
    assert line.text == SENTENCES[0]

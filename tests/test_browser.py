"""Open an HTML report in headless Chromium: it loads, logs no errors and shows its plots.

Needs the Debian packages ``chromium`` and ``chromium-driver`` and the Python
package ``selenium`` (the ``dev`` extra); the test is skipped where any of them
is missing. The browser gets no network: the page must not need one.
"""

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jinja2")
pytest.importorskip("matplotlib")

from gaussaudit import audit, build_report
from gaussaudit.io import from_array
from gaussaudit.report.html import render_html
from gaussaudit.report.plots import PLOT_KINDS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
#: Also save the screenshot here when set (e.g. GAUSSAUDIT_SCREENSHOT=/tmp/report.png).
SCREENSHOT_ENV = "GAUSSAUDIT_SCREENSHOT"


@pytest.fixture(scope="module")
def driver():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("Chromium or chromedriver not found (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="gaussaudit-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        drv = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    except Exception as err:  # pragma: no cover - depends on the machine
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"Chromium did not start: {type(err).__name__}: {str(err)[:200]}")
    yield drv
    drv.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((300, 16))
    x[:, :5] = rng.laplace(size=(300, 5))
    emb = from_array(
        x,
        source="<script>alert(1)</script>.npy",
        provenance={"encoder": "<b>bold</b>", "layer": "avgpool", "dataset": "cifar10"},
    )
    result = audit(
        emb, views=("raw", "whitened"), projections=16, subspaces=4, multivariate_max_rows=300
    )
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render_html(build_report(result, emb)), encoding="utf-8")
    return path


def test_report_loads_without_errors_and_shows_plots(driver, page, tmp_path):
    from selenium.webdriver.common.by import By

    driver.get(page.as_uri())
    assert driver.title.startswith("gaussaudit: <script>")  # escaped text, shown as text
    assert driver.execute_script("return document.readyState") == "complete"
    # the page has no scripts at all: the escaped name is text, not an element
    assert driver.execute_script("return document.scripts.length") == 0
    errors = [
        entry
        for entry in driver.get_log("browser")
        if entry.get("level") in ("SEVERE", "ERROR", "WARNING")
    ]
    assert errors == [], errors

    for view in ("raw", "whitened"):
        for kind in PLOT_KINDS:
            figure = driver.find_element(By.ID, f"plot-{view}-{kind}")
            svg = figure.find_element(By.CSS_SELECTOR, "svg.plot")
            assert svg.get_attribute("id") == f"svg-plot-{view}-{kind}"
            size = svg.size
            assert size["width"] > 200 and size["height"] > 100, (view, kind, size)
    assert len(driver.find_elements(By.CSS_SELECTOR, "figure svg.plot")) == 2 * len(PLOT_KINDS)
    assert len(driver.find_elements(By.TAG_NAME, "img")) == 0

    banner = driver.find_element(By.ID, "verdict")
    assert "Verdict:" in banner.text
    assert "<b>bold</b>" in driver.find_element(By.ID, "provenance").text

    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(int(height) + 40, 16000))
    shot = tmp_path / "report.png"
    assert driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 50_000
    extra = os.environ.get(SCREENSHOT_ENV)
    if extra:
        Path(extra).write_bytes(shot.read_bytes())

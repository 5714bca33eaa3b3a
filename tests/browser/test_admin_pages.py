"""The admin pages in headless Chromium against a real server: sign in, open the queue, merge
an item with the keyboard, see the queue shrink. Screenshots go to artifacts/."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from popdb.core.settings import Settings
from popdb.identity.clients import create_client
from tests.support.scratch import committed_registry

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def server(scratch_database_url, tmp_path):
    from werkzeug.serving import make_server

    from api import create_app

    engine, _ = committed_registry(scratch_database_url, tmp_path)
    with Session(engine) as session:
        key = create_client(session, name="browser admin", role="admin").api_key
        session.commit()
    # plain http on 127.0.0.1, as in development: the Secure cookie flag is turned off
    app = create_app(Settings(database_url=scratch_database_url, home=tmp_path / "home",
                              session_cookie_secure=False))  # fmt: skip
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}", key
    http.shutdown()
    thread.join()
    engine.dispose()


@pytest.fixture
def browser():
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        missing = "Debian's chromium and chromium-driver are not installed (.ci/run installs them)"
        if os.environ.get("CI"):
            pytest.fail(missing)  # in CI a browser test must run, never pass by skipping
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1400,1000", "--lang=en"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_sign_in_review_merge_with_the_keyboard_and_see_the_queue_shrink(server, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    base, key = server
    wait = WebDriverWait(browser, 30)

    def loaded(d) -> bool:  # the shortcuts' script has run once the page is complete
        return d.execute_script("return document.readyState") == "complete"

    ARTIFACTS.mkdir(exist_ok=True)

    browser.get(f"{base}/admin/reviews")
    assert "/admin/sign-in" in browser.current_url
    browser.find_element(By.ID, "api_key").send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit].primary").click()
    wait.until(ec.presence_of_element_located((By.ID, "count-open")))
    before = int(browser.find_element(By.ID, "count-open").text)
    assert before == len(browser.find_elements(By.CSS_SELECTOR, "tr.item")) == 5

    browser.find_element(By.ID, "start").click()
    form = wait.until(ec.presence_of_element_located((By.ID, "decision")))
    first = browser.current_url
    wait.until(loaded)
    browser.save_screenshot(str(ARTIFACTS / "admin-compare.png"))
    if (
        "two different administrators" in browser.page_source
    ):  # four eyes: one admin alone cannot merge it
        ActionChains(browser).send_keys("s").perform()
        wait.until(ec.staleness_of(form))
        wait.until(lambda d: d.current_url != first)
        form = wait.until(ec.presence_of_element_located((By.ID, "decision")))
    wait.until(loaded)
    assert "two different administrators" not in browser.page_source
    ActionChains(browser).send_keys("m").perform()
    wait.until(ec.staleness_of(form))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash.ok")))
    assert "merged into person" in browser.find_element(By.CSS_SELECTOR, ".flash.ok").text

    browser.get(f"{base}/admin/reviews")
    after = int(browser.find_element(By.ID, "count-open").text)
    assert after == before - 1
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.item")) == after
    browser.save_screenshot(str(ARTIFACTS / "admin-queue.png"))
    browser.get(f"{base}/admin/imports")
    assert "Data quality per commune" in browser.page_source
    browser.save_screenshot(str(ARTIFACTS / "admin-imports.png"))

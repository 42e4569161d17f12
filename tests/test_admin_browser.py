"""In a real browser (headless Chromium) against the running service and a real Asterisk 22:
log in, draft a new staff-protection text, listen to the draft in the page while callers still hear the
old prompt, publish it with one click and hear Asterisk play exactly the draft's audio on a test call,
regenerate it, go one click back to the previous text, roll back in the history, and hear each audio.

"Hear" is checked on the file Asterisk actually has open while it plays the prompt: its descriptor in
/proc/<asterisk>/fd is read and hashed, so an old copy that Asterisk still played would be caught.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import admin_fixtures
from tests.admin_fixtures import AdminStack

admin_stack = admin_fixtures.admin_stack
NEW_TEXT = "새 직원 보호 안내입니다. 폭언을 하시면 통화가 종료됩니다."


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is missing: run `make setup` (pip install -e '.[test]')")
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if chromium is None or not Path(driver_path).exists():
        pytest.fail("Chromium or its driver is missing: install Debian packages chromium chromium-driver "
                    "(run `make setup`)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1280,900", "--lang=ko"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


class OpenFileWatcher:
    """Hashes of every ``<name>`` file Asterisk has open, read through its file descriptors."""

    def __init__(self, pid: int, name: str):
        self.pid, self.name = pid, name
        self.hashes: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> OpenFileWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        fd_dir = Path(f"/proc/{self.pid}/fd")
        seen: set[tuple[str, int]] = set()
        while not self._stop.is_set():
            try:
                fds = list(fd_dir.iterdir())
            except OSError:
                return
            for fd in fds:
                try:
                    target = os.readlink(fd)
                    if self.name not in target:
                        continue
                    ino = os.stat(fd).st_ino
                    if (target, ino) in seen:
                        continue
                    with open(fd, "rb") as f:  # the very file (inode) Asterisk reads from
                        self.hashes.append(hashlib.sha256(f.read()).hexdigest())
                    seen.add((target, ino))
                except OSError:
                    continue
            time.sleep(0.005)


def _call_and_capture(stack: AdminStack, did: str) -> list[str]:
    """Place a test call and return the hashes of the staff-protection file Asterisk played."""
    async def scenario() -> list[str]:
        async with stack.ami() as client:
            with OpenFileWatcher(stack.instance.proc.pid, "staff-protection.wav") as watcher:
                await client.call(did)
                played = await client.wait_until(lambda: client.playbacks("nms/staff-protection"), 20,
                                                 "the call plays nms/staff-protection")
                channel = played[0].get("Channel")
                # Wait until the prompt is over (the next step of the dialplan starts).
                await client.wait_until(lambda: [e for e in client.events if e.get("Channel") == channel and
                                                 e.get("Event") == "Newexten" and
                                                 e.get("AppData") == "nms/recording-notice"], 30,
                                        "staff-protection finished")
            for ch in await client.channels():
                if did in (ch.get("Channel") or "") or "nms-lab-staff" in (ch.get("Channel") or ""):
                    await client.conn.action({"Action": "Hangup", "Channel": ch.get("Channel")})
            return watcher.hashes

    return asyncio.run(asyncio.wait_for(scenario(), 60))


def test_draft_listen_publish_play_and_back_in_chromium(admin_stack: AdminStack, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    stack = admin_stack
    wait = WebDriverWait(browser, 30)
    did = next(d.dids[0] for d in stack.config().departments if d.protection and d.dids)
    prompt = stack.prompt_path("staff-protection")
    original = _sha(prompt)
    original_text = stack.config().announcements["staff-protection"]

    # Before anything changes, Asterisk plays the original prompt.
    assert _call_and_capture(stack, did) == [original]

    browser.get(stack.url + "/")
    wait.until(ec.presence_of_element_located((By.ID, "username"))).send_keys("operator")
    browser.find_element(By.ID, "password").send_keys(admin_fixtures.PASSWORDS["operator"])
    browser.find_element(By.ID, "login-button").click()
    wait.until(ec.presence_of_element_located((By.ID, "logout")))

    # A draft: its audio is made and playable in the page; callers still hear the published prompt.
    browser.get(stack.url + "/phone/")
    area = wait.until(ec.presence_of_element_located((By.ID, "text-staff-protection")))
    assert area.get_attribute("value") == original_text
    area.clear()
    area.send_keys(NEW_TEXT)
    browser.find_element(By.ID, "draft-staff-protection").click()
    flash = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash")))
    assert "ok" in flash.get_attribute("class").split(), flash.text
    draft_sha = wait.until(ec.presence_of_element_located((By.ID, "draft-audio-staff-protection"))).get_attribute(
        "data-sha")
    # Listen: the browser loads and decodes the draft, and it is exactly the stored draft audio.
    duration = WebDriverWait(browser, 20).until(lambda b: b.execute_script(
        "const a = document.getElementById('draft-audio-staff-protection');"
        "return a.readyState >= 1 && a.duration > 0 ? a.duration : null;"))
    assert duration > 1.0
    served = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(document.getElementById('draft-audio-staff-protection').src).then(r => r.arrayBuffer())"
        ".then(b => crypto.subtle.digest('SHA-256', b)).then(h => done(Array.from(new Uint8Array(h))"
        ".map(x => x.toString(16).padStart(2, '0')).join('')));")
    assert served == draft_sha
    assert stack.config().announcements["staff-protection"] == original_text
    assert _sha(prompt) == original
    assert _call_and_capture(stack, did) == [original]

    # Publish, one click: live (render, AMI reload, verified) with exactly the audio that was heard.
    browser.find_element(By.ID, "publish-staff-protection").click()
    flash = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash")))
    assert "ok" in flash.get_attribute("class").split(), flash.text
    assert stack.config().announcements["staff-protection"] == NEW_TEXT
    assert stack.ivr.controller.config.announcements["staff-protection"] == NEW_TEXT  # the live configuration
    assert not browser.find_elements(By.ID, "draft-box-staff-protection")
    published_version = stack.admin.workspace.file("ivr").store.current_version()
    saved = _sha(prompt)
    assert saved == draft_sha
    assert _call_and_capture(stack, did) == [draft_sha]

    # Regenerate the audio from the text: a new file (TTS is not bit-for-bit repeatable).
    browser.find_element(By.ID, "regenerate-staff-protection").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash.ok")))
    regenerated = _sha(prompt)
    assert regenerated not in (original, saved)
    shown = browser.find_element(By.CSS_SELECTOR, '[data-audio-sha="staff-protection"]').text
    assert regenerated.startswith(shown)

    # A test call: Asterisk plays exactly the regenerated audio.
    assert _call_and_capture(stack, did) == [regenerated]

    def confirm_and_hear(button: str, text: str, audio: str) -> None:
        """Click, confirm; then the file and the live configuration have ``text``, and a call plays ``audio``."""
        wait.until(ec.element_to_be_clickable((By.ID, button))).click()
        wait.until(ec.alert_is_present()).accept()
        flash = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash")))
        assert "ok" in flash.get_attribute("class").split(), flash.text
        assert stack.config().announcements["staff-protection"] == text
        assert stack.ivr.controller.config.announcements["staff-protection"] == text
        assert _sha(prompt) == audio
        assert _call_and_capture(stack, did) == [audio]

    # One click back to the previous text: the original text and its very audio return.
    browser.get(stack.url + "/phone/")
    confirm_and_hear("previous-staff-protection", original_text, original)

    # Roll back to the published version: the page says in words what changes; text and audio return.
    browser.get(f"{stack.url}/history/ivr/{published_version}")
    words = wait.until(ec.presence_of_element_located((By.ID, "rollback-words"))).text
    assert "직원 보호 안내 문구 변경" in words and NEW_TEXT[:10] in words, words
    confirm_and_hear("rollback", NEW_TEXT, regenerated)

    # The audit log tells who did what, with the diff and the result.
    browser.get(stack.url + "/history/audit")
    text = browser.find_element(By.ID, "audit").text
    assert "operator" in text and "announcement staff-protection" in text and "rollback to" in text
    assert "draft of announcement staff-protection" in text and "back to the previous text" in text

"""The verification page in a real browser (issue 18): Debian's headless
Chromium, driven by Selenium through chromedriver, against a running local
stack (source its env first: API_URL, TABLE_NAME, VERIFY_KEY_SECRET_ARN).
Links are signed with the stack's key (`local-stack link`). Fails on any
surprise.

1. confirm: the button records the contact as verified by the owner, `link`;
2. "It changed": the phone filled in and submitted makes the plan's next
   version, with the old phone in the history and the attestation by the
   owner through the link; the same form submitted again (a second tab,
   loaded before the first submit) changes nothing more;
3. a bad e-mail: the form comes back with the error beside the field and the
   values kept, and nothing is written;
4. an expired link: a page that says so, and nothing is written.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as gone
from selenium.webdriver.support.wait import WebDriverWait

API = os.environ["API_URL"]
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
ADMIN = {"x-local-principal": "admin@example.com", "x-local-groups": "support-plans-admins"}
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def check(ok, msg):
    if not ok:
        fail(msg)


def api(method, path, body=None):
    headers = {**ADMIN, "content-type": "application/json"}
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{API}{path}", data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read().decode())


def link(plan, contact, days_ago=0):
    token = subprocess.run(
        [os.path.join(ROOT, "target/debug/local-stack"), "link", "--table", os.environ["TABLE_NAME"],
         "--plan", plan, "--contact", contact, "--days-ago", str(days_ago)],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    return f"{API}/verify/{token}"


def contact(plan, cid):
    return next(c for c in plan["contacts"] if c["id"] == cid)


def h1(driver):
    return driver.find_element(By.TAG_NAME, "h1").text


def press(driver, label):
    """Clicks the button saying `label` and waits for the page it loads."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.XPATH, f"//button[contains(., '{label}')]").click()
    WebDriverWait(driver, 30).until(gone.staleness_of(page))


def main():
    started = time.monotonic()
    plan_id = f"browser-story-{os.getpid()}"
    with open(os.path.join(ROOT, "infra/local/samples/plans/datadog-enterprise.json")) as f:
        body = json.load(f)
    body["id"] = plan_id
    owner = body["owner"]["email"]
    api("POST", "/plans", body)

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="browser-story-")
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    # Debian's driver, given by path: Selenium Manager downloads nothing.
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        # 1. Confirm.
        driver.get(link(plan_id, "datadog-tam"))
        check(h1(driver) == "Is this contact still right?", f"the page: {h1(driver)}")
        check(api("GET", f"/plans/{plan_id}")["version"] == 1, "opening the page changed the plan")
        press(driver, "confirm")
        check(h1(driver) == "Thank you: confirmed", f"after confirm: {h1(driver)}")
        plan = api("GET", f"/plans/{plan_id}")
        tam = contact(plan, "datadog-tam")
        check(plan["version"] == 2 and tam.get("verified_via") == "link" and tam.get("verified_by") == owner,
              f"after confirm: version {plan['version']}, {tam}")
        print("--- confirm: recorded as verified by the owner through the link")

        # 2. It changed: the phone, in two tabs loaded before the first submit.
        url = link(plan_id, "observability-lead")
        driver.get(url)
        first = driver.current_window_handle
        driver.switch_to.new_window("tab")
        driver.get(url)
        second = driver.current_window_handle
        new_phone = "+12065550199"
        for tab in (first, second):
            driver.switch_to.window(tab)
            check(driver.find_element(By.ID, "phone").get_attribute("value") == "+12065550111",
                  "the form is not pre-filled with today's phone")
            driver.find_element(By.ID, "phone").clear()
            driver.find_element(By.ID, "phone").send_keys(new_phone)
        driver.switch_to.window(first)
        press(driver, "Save the change")
        check(h1(driver) == "Thank you: changed", f"after the change: {h1(driver)}")
        plan = api("GET", f"/plans/{plan_id}")
        lead = contact(plan, "observability-lead")
        check(plan["version"] == 3 and lead["phone"] == new_phone, f"after the change: {plan['version']}, {lead}")
        check(lead.get("verified_via") == "link" and lead.get("verified_by") == owner, f"attestation: {lead}")
        history = api("GET", f"/plans/{plan_id}/history")["items"]
        check(history[0]["change"] == {"kind": "contact-corrected", "contact": "observability-lead"}
              and history[0]["by"] == owner, f"history: {history[0]['change']} by {history[0]['by']}")
        check(contact(history[1]["record"], "observability-lead")["phone"] == "+12065550111",
              "the history lacks the old phone")
        driver.switch_to.window(second)
        press(driver, "Save the change")
        check(h1(driver) == "Already recorded", f"the same form again: {h1(driver)}")
        check(api("GET", f"/plans/{plan_id}")["version"] == 3, "the same form again wrote a version")
        driver.close()
        driver.switch_to.window(first)
        print("--- it changed: the new phone in version 3, the old one in the history; the same form again: nothing")

        # 3. A bad e-mail: the error beside the field, the values kept, nothing written.
        driver.get(link(plan_id, "observability-lead"))
        driver.find_element(By.ID, "email").clear()
        driver.find_element(By.ID, "email").send_keys("hannah-at-example")
        press(driver, "Save the change")
        check(h1(driver) == "Please check the form", f"a bad e-mail: {h1(driver)}")
        error = driver.find_element(By.ID, "email-error").text
        check("must be an e-mail address" in error, f"the e-mail's error: {error!r}")
        check(driver.find_element(By.ID, "email").get_attribute("value") == "hannah-at-example"
              and driver.find_element(By.ID, "phone").get_attribute("value") == new_phone,
              "the values were not kept")
        check(api("GET", f"/plans/{plan_id}")["version"] == 3, "a bad e-mail wrote a version")
        print(f"--- a bad e-mail: shown beside the field ({error!r}), nothing written")

        # 4. An expired link.
        driver.get(link(plan_id, "datadog-csm", days_ago=15))
        check(h1(driver) == "This link has expired", f"an expired link: {h1(driver)}")
        check("Nothing was changed." in driver.page_source, "the expired page does not say nothing changed")
        check(not driver.find_elements(By.TAG_NAME, "form"), "the expired page offers a form")
        check(api("GET", f"/plans/{plan_id}")["version"] == 3, "an expired link wrote a version")
        print("--- an expired link: a page that says so, nothing written")
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    print(f"browser story ({time.monotonic() - started:.1f} s): 1 passed, 0 failed")


if __name__ == "__main__":
    main()

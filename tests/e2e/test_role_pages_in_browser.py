"""The supervisor's, grantor's, finance and administrator pages in real Chromium: no serious
accessibility findings, and the supervisor's in-person co-signature (R-32b) made in the
browser, where the page signs the login nonce with the supervisor's key file."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.api.bidding_support import listing_lot
from tests.e2e.browser import chromium, screenshot, serious_accessibility_violations
from tests.e2e.test_auction_in_browser import WAIT, sign_in
from tests.harness import Account, Stack


def test_role_pages_pass_the_accessibility_check(stack: Stack, staff: Account) -> None:
    lot = stack.published_lot(staff)
    assert stack.admin is not None
    visits = [
        (stack.account("supervisor"), ["/supervisor", "/admin/audit?run=true"]),
        (stack.account("grantor", "xianning-city"), ["/grantor"]),
        (
            stack.account("finance", "xianning-city"),
            ["/finance", f"/finance/lots/{lot['id']}", "/finance/reconciliation"],
        ),
        (stack.admin, ["/admin", "/admin/backups", "/admin/audit"]),
        (staff, ["/admin/account-requests"]),
    ]
    with chromium() as browser:
        for account, paths in visits:
            page = sign_in(browser.new_context(locale="zh-CN"), stack, account)
            for path in paths:
                page.goto(f"{stack.url}{path}")
                assert serious_accessibility_violations(page) == [], path
            screenshot(page, f"role-{paths[0].strip('/').replace('/', '-')}")


def test_r32b_the_supervisor_co_signs_beside_the_administrator_in_the_browser(
    stack: Stack, staff: Account
) -> None:
    listing_lot(stack, staff, 1)  # a listing runs: the administrator needs a co-signature
    assert stack.admin is not None and stack.cosigner is not None
    name = f"clerk-{uuid.uuid4().hex[:8]}"
    key, cert = stack.issue(name)
    with chromium() as browser:
        page = sign_in(browser.new_context(locale="zh-CN"), stack, stack.admin)
        page.goto(f"{stack.url}/admin")
        form = page.locator("form[action='/admin/users']")
        form.get_by_label("用户名", exact=True).fill(name)
        form.get_by_label("初始密码(至少8位)").fill("long enough password")
        form.get_by_role("checkbox", name="交易机构工作人员").check()
        form.get_by_label("本人数字证书文件(PEM)").set_input_files(str(cert))
        form.get_by_label("监督人员用户名").fill(stack.cosigner.username)
        form.get_by_label("监督人员密码").fill(stack.cosigner.password)
        form.get_by_label("监督人员证书文件").set_input_files(str(stack.cosigner.cert_path))
        form.get_by_label("监督人员私钥文件").set_input_files(str(stack.cosigner.key_path))
        form.get_by_role("button", name="创建账户").click()
        expect(page.get_by_role("status")).to_contain_text("账户已创建", timeout=WAIT)
    created = stack.login(Account(name, "long enough password", key, cert))
    assert created.http.get("/api/v1/me").json()["roles"] == ["staff"]

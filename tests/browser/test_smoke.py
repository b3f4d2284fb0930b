import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_can_log_in_and_out(page, browser_login, coordinator):
    browser_login(coordinator)
    assert "Log out" in page.content()
    page.shot("logged-in")
    page.click("text=Log out")
    page.wait_for_url("**/login/")


def test_public_home_offers_the_two_forms(page):
    page.goto("/")
    assert page.locator("text=Request a free consultation").first.is_visible()
    assert page.locator("text=Ask a question").first.is_visible()
    page.shot("public-home")

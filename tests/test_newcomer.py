"""Small things a newcomer notices: the API docs work offline, a favicon, the privacy notice."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_api_docs_page_loads_its_assets_from_this_server(client):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    html = r.content.decode()
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    assert "/static/ninja/swagger-ui-bundle.js" in html and "/static/ninja/swagger-ui.css" in html
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_there_is_a_favicon(client):
    html = client.get("/").content.decode()
    assert 'rel="icon"' in html
    r = client.get("/favicon.ico")
    assert r.status_code == 301 and r["Location"].endswith("anagen/favicon.svg")
    assert client.get(r["Location"]).status_code == 200


@pytest.mark.parametrize("url", ["/ask/", "/consultation/"])
def test_the_public_forms_link_to_the_privacy_notice(client, url):
    assert 'href="/privacy/"' in client.get(url).content.decode()
    r = client.get("/privacy/")
    assert r.status_code == 200 and "Privacy notice" in r.content.decode()

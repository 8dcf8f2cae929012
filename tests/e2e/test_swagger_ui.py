"""The API documentation in a real browser: headless Chromium opens /swagger on the local stack, the page renders from
the assets the layer ships (no request leaves the stack), and one call is made through the UI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.stack import LocalStack, Ports
from tests.e2e.browser import BrowserUnavailable, ensure_chromium, headless_page

pytestmark = pytest.mark.e2e

# Finds the GET /jobs operation of the Swagger page, whatever operation id the resolver gave it.
JOBS_OPERATION = """[...document.querySelectorAll('.opblock.opblock-get')].find(
    block => block.querySelector('.opblock-summary-path')?.getAttribute('data-path') === '/jobs')"""


@pytest.fixture(scope="module")
def chromium() -> str:
    try:
        return ensure_chromium()
    except BrowserUnavailable as why:
        print(f"browser test skipped: {why}")
        pytest.skip(str(why))


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(ports=Ports.ephemeral(), start_scheduler=False, async_retry_delay_seconds=0) as running:
        yield running


def test_swagger_ui_renders_from_shipped_assets_and_runs_a_call(chromium: str, stack: LocalStack) -> None:
    with headless_page(chromium) as page:
        # When the browser opens the documentation
        page.send("Page.navigate", url=f"{stack.api_url}/swagger")

        # Then Swagger UI renders the operations from the resolver's OpenAPI document
        assert page.wait_for(f"Boolean({JOBS_OPERATION})")
        assert page.evaluate("document.querySelector('.info .title')?.textContent").startswith("shopsync")

        # When GET /jobs is run through the UI: expand, "Try it out", "Execute"
        page.evaluate(f"{JOBS_OPERATION}.querySelector('.opblock-control-arrow').click()")
        page.wait_for(f"Boolean({JOBS_OPERATION}.querySelector('.try-out__btn'))")
        page.evaluate(f"{JOBS_OPERATION}.querySelector('.try-out__btn').click()")
        page.wait_for(f"Boolean({JOBS_OPERATION}.querySelector('.execute'))")
        page.evaluate(f"{JOBS_OPERATION}.querySelector('.execute').click()")

        # Then the live response is a 200 listing the jobs
        live_response = f"{JOBS_OPERATION}.querySelector('.live-responses-table tr.response')"
        status = page.wait_for(f"{live_response}?.querySelector('.response-col_status').textContent.trim()")
        body = page.evaluate(f"{live_response}.querySelector('.microlight').textContent")
        assert status == "200"
        assert '"product-import"' in body and '"association"' in body
        # And every request the page made went to the local stack: the UI's script and styles included, no CDN
        assert page.requested_urls
        outside = [url for url in page.requested_urls if not url.startswith((stack.api_url, "data:", "about:"))]
        assert outside == []
        assert f"{stack.api_url}/swagger/assets/swagger-ui-bundle.min.js" in page.requested_urls

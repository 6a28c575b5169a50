"""Every catalog source whose articles depend on per-site rules has a saved-page test, so adding
a listing or a selector to the catalog without a page to check it against fails here."""

from __future__ import annotations

from crawler.config import default_catalog_path, load_config
from tests.support.source_pages import has_page_rules, source_test_path


def test_every_source_with_page_rules_has_a_saved_page_test() -> None:
    sources = [s for s in load_config(default_catalog_path()).sources if has_page_rules(s)]
    assert sources, "the catalog has no listing or selector sources: has_page_rules is stale"
    missing = [s.name for s in sources if not source_test_path(s.name).is_file()]
    assert missing == [], f"add tests/sources/test_<name>.py for: {missing}"

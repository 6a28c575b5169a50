"""One rule per test: the canonical URL decides which fetched links are the same article."""

from __future__ import annotations

import pytest

from crawler.identity.urls import (
    absolute_url,
    canonicalize_url,
    host_of,
    is_http_url,
    is_tracking_param,
    same_site,
)


def test_relative_url_resolved_against_base():
    got = canonicalize_url("../../12/nota/", base="https://www.tribuna.com.mx/2025/11/x/")
    assert got == "https://www.tribuna.com.mx/2025/12/nota/"


def test_scheme_and_host_lowercased_but_path_case_kept():
    assert canonicalize_url("HTTPS://WWW.Tribuna.COM.mx/Seccion/Nota/") == (
        "https://www.tribuna.com.mx/Seccion/Nota/"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
    ],
)
def test_only_the_schemes_default_port_is_dropped(url, expected):
    assert canonicalize_url(url) == expected


def test_fragment_removed():
    assert canonicalize_url("https://example.com/nota/#comentarios") == "https://example.com/nota/"


def test_tracking_params_dropped_and_others_kept():
    url = (
        "https://example.com/nota/?utm_source=rss&utm_medium=feed&UTM_Campaign=x&fbclid=abc"
        "&gclid=1&dclid=2&msclkid=3&mc_cid=4&mc_eid=5&igshid=6&_ga=7&yclid=8&ref_src=twsrc"
        "&cmpid=9&ocid=10&p=184512"
    )
    assert canonicalize_url(url) == "https://example.com/nota/?p=184512"


def test_non_tracking_params_that_look_similar_survive():
    assert canonicalize_url("https://example.com/?utm=1&ref=home&outputType=amp") == (
        "https://example.com/?outputType=amp&ref=home&utm=1"
    )


def test_query_params_sorted():
    assert canonicalize_url("https://example.com/buscar?q=armas&page=2&a=1") == (
        "https://example.com/buscar?a=1&page=2&q=armas"
    )


def test_non_ascii_path_and_percent_encoding_agree():
    raw = canonicalize_url("https://example.com/año/señal/?q=tráfico")
    encoded = canonicalize_url("https://example.com/a%c3%b1o/se%C3%B1al/?q=tr%C3%A1fico")
    assert raw == encoded == "https://example.com/a%C3%B1o/se%C3%B1al/?q=tr%C3%A1fico"


def test_idn_host_is_punycode_either_way():
    assert canonicalize_url("https://periódico.mx/nota") == canonicalize_url(
        "https://xn--peridico-y3a.mx/nota"
    )
    assert canonicalize_url("https://PERIÓDICO.mx/nota").startswith("https://xn--peridico-y3a.mx/")


def test_empty_query_marker_removed():
    assert canonicalize_url("https://example.com/nota/?") == "https://example.com/nota/"


def test_query_of_only_tracking_params_leaves_no_question_mark():
    assert canonicalize_url("https://example.com/nota/?utm_source=rss") == (
        "https://example.com/nota/"
    )


def test_trailing_slash_is_not_normalised():
    assert canonicalize_url("https://example.com/nota") != canonicalize_url(
        "https://example.com/nota/"
    )


def test_empty_path_becomes_slash():
    assert canonicalize_url("https://Example.com") == "https://example.com/"
    assert canonicalize_url("https://example.com?a=1") == "https://example.com/?a=1"


def test_canonicalisation_is_idempotent():
    once = canonicalize_url("HTTP://Example.com:80/a%c3%b1o/?b=2&a=1&utm_source=x#f")
    assert canonicalize_url(once) == once


def test_non_http_urls_are_returned_untouched():
    assert canonicalize_url("mailto:redaccion@example.com") == "mailto:redaccion@example.com"
    assert canonicalize_url("javascript:void(0)") == "javascript:void(0)"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/x", True),
        ("HTTP://example.com", True),
        ("ftp://example.com/x", False),
        ("javascript:alert(1)", False),
        ("mailto:a@example.com", False),
        ("/relative/path", False),
        ("http://", False),
        ("http://[::1", False),
    ],
)
def test_is_http_url(url, expected):
    assert is_http_url(url) is expected


def test_is_tracking_param_is_case_insensitive():
    assert is_tracking_param("UTM_SOURCE") and is_tracking_param("FbClid")
    assert not is_tracking_param("id")


BASE = "https://www.tribuna.com.mx/seccion/"


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("nota-1/", "https://www.tribuna.com.mx/seccion/nota-1/"),
        ("  /2025/12/nota/\n", "https://www.tribuna.com.mx/2025/12/nota/"),
        ("/nota#comentarios", "https://www.tribuna.com.mx/nota"),
        ("//cdn.tribuna.com.mx/a.jpg", "https://cdn.tribuna.com.mx/a.jpg"),
        ("http://otro.mx/x", "http://otro.mx/x"),
        ("/año/nota", "https://www.tribuna.com.mx/a%C3%B1o/nota"),
        ("#arriba", None),
        ("", None),
        ("   ", None),
        (None, None),
        ("javascript:alert(1)", None),
        (" JavaScript:void(0)", None),
        ("mailto:redaccion@tribuna.com.mx", None),
        ("data:text/html,<b>x</b>", None),
        ("ftp://tribuna.com.mx/f.xml", None),
        ("tel:+5255", None),
        ("http://[::1", None),
        ("http:///sin-host", None),
    ],
)
def test_absolute_url(href, expected):
    assert absolute_url(href, BASE) == expected


def test_absolute_url_without_a_base_needs_an_absolute_link():
    assert absolute_url("https://e.mx/a#b", "") == "https://e.mx/a"
    assert absolute_url("/a", "") is None


def test_host_of():
    assert host_of("https://WWW.Tribuna.com.mx./a") == "www.tribuna.com.mx"
    assert host_of("/relative") == ""
    assert host_of("http://[::1") == ""


@pytest.mark.parametrize(
    ("url_or_host", "site", "subdomains", "expected"),
    [
        ("https://www.tribuna.com.mx/a", "https://tribuna.com.mx/", True, True),
        ("tribuna.com.mx", "www.tribuna.com.mx", True, True),
        ("english.tribuna.com.mx", "https://www.tribuna.com.mx/", True, True),
        ("english.tribuna.com.mx", "tribuna.com.mx", False, False),
        ("https://WWW.Tribuna.com.mx/", "tribuna.com.mx", False, True),
        ("tribuna.com.mx", "english.tribuna.com.mx", True, False),
        ("eviltribuna.com.mx", "tribuna.com.mx", True, False),
        ("tribuna.com.mx.evil.io", "tribuna.com.mx", True, False),
        ("", "tribuna.com.mx", True, False),
    ],
)
def test_same_site(url_or_host, site, subdomains, expected):
    assert same_site(url_or_host, site, subdomains=subdomains) is expected

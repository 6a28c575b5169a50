"""Fetching: the Scrapy side. Spiders per source kind, downloader middlewares, per-host politeness,
the address policy, the crawl runner and the online source check."""

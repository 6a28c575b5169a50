"""From a fetched page to a stored record: the Scrapy item pipeline, the extraction worker pool and
the pure page -> record step. The only crawler stage that writes to ``storage``."""

"""One article page into fields: HTML loading, extraction (metadata, body, per-site rules), dates,
embedded posts, language and text repair. Pure functions of bytes and strings."""

"""Documents that list articles: feeds, sitemaps and listing pages, parsed into entries (a link plus
hints). Pure functions of bytes and strings."""

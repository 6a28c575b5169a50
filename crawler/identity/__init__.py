"""What an article is: canonical URLs, content hashes, near-duplicate fingerprints and syndication
credits, the inputs of the dedupe key and story clustering. Pure."""

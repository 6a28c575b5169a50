"""What an article is about: topic relevance, entities and the term matcher they share. Pure."""

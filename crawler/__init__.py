"""The crawl, stage by stage: fetching -> documents -> articles -> analysis -> identity -> pipeline.

``config`` reads the sources file, ``settings`` the environment; ``items`` holds the typed values
passed between stages and to ``storage``. docs/architecture.md maps every stage and rule.
"""

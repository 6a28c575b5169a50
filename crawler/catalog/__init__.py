"""The packaged catalog: default sources, topic profile and gazetteer (TOML data files)."""

from pathlib import Path

CATALOG_DIR = Path(__file__).resolve().parent

"""sitegen: static sites of annotated news articles, with notes anchored on exact quotes."""

__version__ = "0.1.0"

"""Sphinx configuration: MyST pages, MyST-NB notebooks, the PyData theme.

`make docs` builds it with warnings as errors (sphinx-build -W) into build/docs.
"""

from __future__ import annotations

from importlib.metadata import version as _version

project = "ue-magic"
author = "the ue-magic authors"
copyright = "2026, the ue-magic authors"
release = _version("ue-magic")
version = release

extensions = [
    "myst_nb",  # MyST Markdown pages and executed notebooks
    "sphinx.ext.autodoc",
]

source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

nb_execution_mode = "off"

html_theme = "pydata_sphinx_theme"
html_title = f"ue-magic {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}

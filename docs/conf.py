"""Sphinx configuration: MyST pages, MyST-NB notebooks, the PyData theme.

`make docs` builds it with warnings as errors (sphinx-build -W) into build/docs.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

from ue_magic import __version__

project = "ue-magic"
author = "the ue-magic authors"
copyright = "2026, the ue-magic authors"
release = __version__
version = release

extensions = [
    "myst_nb",  # MyST Markdown pages and executed notebooks
    "sphinx.ext.autodoc",
    "ue_docs",  # pages made from the code: magic options, settings, the quickstart's cells
]

source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
# "--each" stays two hyphens (smart quotes would print an en dash that breaks a copied option)
smartquotes = False

# The getting-started page (the quickstart notebook's cells) runs against the sandbox at every
# build; a cell that raises fails the build.
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True

autodoc_typehints_format = "short"
python_use_unqualified_type_names = True

html_theme = "pydata_sphinx_theme"
html_title = f"ue-magic {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}

"""The cell language and calls: parsing a cell into a request, sending it (one, each item,
every page), and rendering the answer as text or HTML.

Plain Python over the HTTP core (``ue_magic.core``); it never imports IPython, so scripts and
tests can use it. ipywidgets is imported only when a progress bar is shown in a notebook.
"""

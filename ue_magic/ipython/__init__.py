"""The IPython adapter: the magics, the login form, completion, and what ties them to a kernel.

The only layer that imports IPython. It parses magic lines, delegates to ``ue_magic.cells``
and ``ue_magic.core``, and displays; nothing below imports it.
"""

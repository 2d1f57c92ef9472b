"""Helpers for the real-browser test: a JupyterLab server on loopback, headless Chromium, and a
small driver for JupyterLab's notebook UI. The test itself is tests/browser/test_browser.py."""

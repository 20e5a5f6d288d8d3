"""Shared by the standing checks: a page's state as the browser builds it, and page drivers."""

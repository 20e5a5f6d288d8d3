"""The browser pages: visitor event page, moderator console, stage view, staff dashboard.

Pages are server-rendered shells (Jinja2, autoescaped) in the visitor's
language, plus plain ES modules from ``static/`` that talk to ``/ws`` and the
JSON API. Nothing is loaded from another host, and the Content-Security-Policy
(``security.py``) forbids inline scripts: data for the scripts travels in
``<script type="application/json">`` blocks, which browsers never execute.
"""

"""Rendering a page shell: template, language, texts and data for its script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import orjson
from aiohttp import web
from markupsafe import Markup

from hubs_bridge.web.pages.i18n import LANG_COOKIE, Catalogue, Lang, choose_lang

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

CATALOGUE: web.AppKey[Catalogue] = web.AppKey("pages_catalogue")
TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey("pages_templates")


def template_environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every value is text unless a template says otherwise
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def json_block(value: object) -> Markup:
    """JSON safe inside ``<script type="application/json">``: no ``</script>`` can end it."""
    text = orjson.dumps(value).decode()
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above for this context


def wants_html(request: web.Request) -> bool:
    """A browser navigating here (rather than a script asking for JSON)."""
    return "text/html" in request.headers.get("Accept", "")


def request_lang(request: web.Request) -> Lang:
    return choose_lang(request.cookies.get(LANG_COOKIE))


def render_page(
    request: web.Request,
    template: str,
    *,
    sections: tuple[str, ...],
    title_key: str,
    script: str,
    page: dict[str, Any],
    status: int = 200,
    **context: Any,
) -> web.Response:
    """Render ``template`` with the texts of ``common`` and ``sections`` for its script.

    ``page`` is data for the script (event slug, room...), never secrets.
    """
    catalogue = request.app[CATALOGUE]
    lang = request_lang(request)

    def t(key: str, **values: object) -> str:
        text = catalogue.text(key, lang)
        return text.format(**values) if values else text

    html = (
        request.app[TEMPLATES]
        .get_template(template)
        .render(
            lang=lang,
            t=t,
            title_key=title_key,
            script=script,
            i18n_json=json_block(catalogue.section("common", *sections)),
            page_json=json_block({**page, "lang": lang}),
            **context,
        )
    )
    return web.Response(
        text=html,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={"Cache-Control": "no-store", "Vary": "Cookie"},
    )

"""The web layer: the Datasette plugin ``policykb`` and its pages.

This package is the plugin (entry point ``policykb = "extractor.web"`` in pyproject.toml), so
Datasette finds its ``templates/`` and serves its ``static/`` itself. The hooks live in
:mod:`extractor.web.plugin` and are imported here, where Datasette looks for them.
"""

from extractor.web.plugin import (
    asgi_wrapper,
    canned_queries,
    extra_template_vars,
    get_metadata,
    menu_links,
    prepare_connection,
    prepare_jinja2_environment,
    register_output_renderer,
    register_routes,
    render_cell,
    startup,
)

__all__ = [
    "asgi_wrapper",
    "canned_queries",
    "extra_template_vars",
    "get_metadata",
    "menu_links",
    "prepare_connection",
    "prepare_jinja2_environment",
    "register_output_renderer",
    "register_routes",
    "render_cell",
    "startup",
]

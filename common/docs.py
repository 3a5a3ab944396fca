"""Swagger UI at /docs, from the assets the flask-swagger-ui package installs: no CDN, works offline."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from common.errors import NotFound

# The package's directory, found without importing it (its __init__ imports Flask blueprints).
_DIST = Path(importlib.util.find_spec("flask_swagger_ui").submodule_search_locations[0]) / "dist"
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "index.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}

INDEX_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>TSH ERP functions — API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="stylesheet" href="/docs/index.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script>
    window.onload = function () {
      window.ui = SwaggerUIBundle({
        url: "/openapi.json",
        dom_id: "#swagger-ui",
        deepLinking: true,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        layout: "StandaloneLayout"
      });
    };
  </script>
</body>
</html>
"""


@lru_cache(maxsize=len(ASSETS))
def asset(name: str) -> tuple[bytes, str]:
    """(content, media type) of a whitelisted asset; any other name is 404."""
    if name not in ASSETS:
        raise NotFound("Asset not found")
    return (_DIST / name).read_bytes(), ASSETS[name]

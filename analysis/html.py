"""The one HTML page of the reports: ``analysis.report``, ``analysis.compare`` and the replay report.

Every page is self-contained (figures inline as SVG or PNG data, no request leaves the file)
and fits its text column at a 1,280 px window: tables are at most as wide as the column (cells
wrap between words; a long table is split or reduced by the page that writes it, the full table
being a CSV beside it).
:func:`page` wraps a body in the shared template and style; :func:`png_data` turns a Matplotlib
figure into the base64 text of an inline PNG.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 1100px; margin: 1.5em auto; padding: 0 1em;
       color: #222; }}
table {{ max-width: 100%; }}
table.t {{ border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.2em; }}
table.t th, table.t td {{ border-bottom: 1px solid #ddd; padding: 0.2em 0.5em; text-align: right;
       overflow-wrap: break-word; }}
table.t th {{ vertical-align: bottom; }}
.note {{ color: #555; font-size: 0.9em; }} .warn li {{ color: #a15c00; }}
img.fig {{ max-width: 100%; height: auto; display: block; margin: 0.5em 0 1.5em; }}
pre {{ background: #f6f6f6; padding: 0.6em; overflow-x: auto; }}
p, li, dd, figcaption {{ overflow-wrap: anywhere; }}
.scroll {{ max-width: 100%; overflow-x: auto; }}
figure {{ margin: 0.5em 0 1.5em; }} figure svg {{ max-width: 100%; height: auto; display: block; }}
p.headline {{ font-size: 1.1em; line-height: 1.45; }}
ul.prov {{ color: #555; font-size: 0.85em; }}
details.legend {{ font-size: 0.85em; color: #444; margin-bottom: 1.2em; }}
details.legend dt {{ font-weight: bold; }} details.legend dd {{ margin: 0 0 0.3em 1.5em; }}
.pass {{ color: #1b7837; font-weight: bold; }} .fail {{ color: #b2182b; font-weight: bold; }}
section {{ margin-bottom: 1.5em; }}
</style></head><body>
{body}
</body></html>
"""


def page(title: str, body: str) -> str:
    """A complete HTML page: ``title`` (escaped here) and ``body`` (HTML, as given)."""
    return PAGE.format(title=html.escape(title), body=body)


def png_data(fig: Any, dpi: int = 110) -> str:
    """Base64 text of a Matplotlib figure as PNG, for ``<img src="data:image/png;base64,…">``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")

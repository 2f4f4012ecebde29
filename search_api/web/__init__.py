"""The web pages: Jinja2 shells plus static JavaScript that calls the JSON API.

Pages hold no document text; the browser fetches it from `/api` with the reader's key and puts it
into the page as text, so escaping never depends on a template getting it right.
"""

from search_api.web.pages import router

__all__ = ["router"]

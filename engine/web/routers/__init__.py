"""The routers of ``policykb serve``: the JSON API, the analysts' pages, the page fragments
(htmx), and batch screening."""

"""``policykb serve``: the analysts' workbench in the browser and the JSON API.

- :mod:`.app` builds the FastAPI app (one per worker process);
- :mod:`.worker` runs evaluations in an engine process of each worker, one at a time;
- :mod:`.operations` is what that engine process does (evaluate, explain, compare, report…);
- :mod:`.routers` hold the JSON API (``shared/spec/api.md``), the pages, the page fragments
  (htmx) and batch screening; :mod:`.forms`, :mod:`.policy_text`, :mod:`.graph_view` and
  :mod:`.jobs` prepare what the pages show;
- :mod:`.serve` is the command.

Templates are in ``templates/`` (Jinja2, autoescaped), scripts and styles in ``static/`` (htmx 2
vendored as one file): nothing is loaded from outside the server.
"""

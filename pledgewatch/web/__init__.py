"""The web desk: pledgewatch's second front end, over the same Desk as the
command line.

- ``app``: the Starlette application (``create_app``), its middleware and routes;
- ``pages``: one handler a page, each parse, one Desk call, render;
- ``security``: sessions, CSRF tokens, log-in throttling and the headers every
  response carries (a Content-Security-Policy without inline script);
- ``keys``: the secret that signs session cookies, made once and kept in a file.

Like cli/, it holds no rule and reaches no storage: the Desk decides, the desk
shows. May import pledgewatch.desk, views, errors, config, people (roles),
report.render, and starlette, jinja2, itsdangerous.
"""

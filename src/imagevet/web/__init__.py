"""HTML: the standalone reports (`audit`/`vuln --format html`) and the service's dashboard share these
Jinja2 templates. Pages are self-contained: inline CSS, inline SVG charts, a few lines of inline JS for
table filtering; no external resources, so a CI artefact opens anywhere."""

"""Weigh OpenAPI libraries on the generated service: per-request cost and cold start.

Usage (from the repository root, with the template's dev environment):

    uv run python bench/openapi.py              # about 10 minutes on a quiet machine
    uv run python bench/openapi.py --rounds 2   # a quick look

It generates the default service, installs the candidates next to it (pinned below), and
writes `candidates.py` there: the same three views (create with a JSON body, list with a
query, read by id) on the generated app, written the way each library wants them. Then:

- per request: each round starts one process per candidate, in a rotating order, which
  calls the app through WSGI in a tight loop (no test client, no server) and reports the
  microseconds per request of each route; the table gives the median over rounds, the
  range, and the difference from the same views without any library;
- cold start: alternated runs of `import + create the app` for each candidate, and what
  importing the library itself adds once the service is imported (`python -X importtime`);
- the first GET of each candidate's document, which builds it.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import run as shared  # bench/run.py: this script's folder is first on sys.path

PACKAGE = "example_service"
CANDIDATES = ("none", "apispec", "spectree", "flask-openapi3")
PINS = ("apispec==6.10.1", "spectree[flask]==3.0.0", "flask-openapi3==4.3.2")
#: What each candidate imports, for -X importtime.
MODULES = {"apispec": "apispec", "spectree": "spectree", "flask-openapi3": "flask_openapi3"}
ROUTES = ("create", "list", "read", "livez")
CANDIDATES_MODULE = f"""\
import io
import json
import sys
import time

from flask import Blueprint, request
from pydantic import BaseModel
from werkzeug.test import EnvironBuilder

from {PACKAGE} import api, create_app
from {PACKAGE}.config import load_config
from {PACKAGE}.items import ItemCreate, PageQuery

CONFIG = {{"APP_ENV": "production", "SECRET_KEY": "{secrets.token_urlsafe(48)}",
          "DATABASE_URL": "sqlite:////tmp/bench-openapi.sqlite3"}}
BODY = b'{{"name": "a name", "description": "some words"}}'
REQUESTS = {{
    "create": ("POST", "/bench/items", BODY),
    "list": ("GET", "/bench/items?page=2&per_page=10", None),
    "read": ("GET", "/bench/items/7", None),
    "livez": ("GET", "/livez", None),
}}


class ItemOut(BaseModel):
    id: int
    name: str
    description: str


class ItemPath(BaseModel):
    item_id: int


class Page(BaseModel):
    items: list[ItemOut]
    page: int
    per_page: int
    total: int


def plain():
    bp = Blueprint("bench", __name__, url_prefix="/bench/items")

    @bp.post("")
    def create():
        data = ItemCreate.model_validate(request.get_json())
        return {{"id": 1, "name": data.name, "description": data.description}}, 201

    @bp.get("")
    def list_items():
        query = PageQuery.model_validate(request.args.to_dict())
        return {{"items": [], "page": query.page, "per_page": query.per_page, "total": 0}}

    @bp.get("/<int:item_id>")
    def read(item_id):
        return {{"id": item_id, "name": "a name", "description": ""}}

    return bp


def make_none():
    app = create_app(load_config(CONFIG))
    app.register_blueprint(plain())
    return app, None


def make_apispec():
    app = create_app(load_config(CONFIG))
    app.register_blueprint(plain())

    @app.get("/bench/openapi.json")  # the service's own /openapi.json is apispec's too
    def document():
        # Imported and built on the first request for it, never on the others.
        from apispec import APISpec
        from pydantic.json_schema import models_json_schema

        spec = APISpec("bench", "1", "3.1.0")
        models = [(model, "validation") for model in (ItemCreate, PageQuery, ItemOut, Page)]
        _, schemas = models_json_schema(models, ref_template="#/components/schemas/{{model}}")
        for name, schema in schemas["$defs"].items():
            spec.components.schema(name, schema)
        body = {{"content": {{"application/json": {{"schema": "ItemCreate"}}}}}}
        spec.path("/bench/items", operations={{
            "post": {{"requestBody": body, "responses": {{"201": {{"description": "x",
                "content": {{"application/json": {{"schema": "ItemOut"}}}}}}}}}},
            "get": {{"responses": {{"200": {{"description": "x",
                "content": {{"application/json": {{"schema": "Page"}}}}}}}}}},
        }})
        return spec.to_dict()

    return app, "/bench/openapi.json"


def make_spectree():
    from spectree import Response, SpecTree

    spec = SpecTree("flask", title="bench", version="1")
    bp = Blueprint("bench", __name__, url_prefix="/bench/items")

    @bp.post("")
    @spec.validate(json=ItemCreate, resp=Response(HTTP_201=ItemOut))
    def create():
        data = request.context.json
        return {{"id": 1, "name": data.name, "description": data.description}}, 201

    @bp.get("")
    @spec.validate(query=PageQuery, resp=Response(HTTP_200=Page))
    def list_items():
        query = request.context.query
        return {{"items": [], "page": query.page, "per_page": query.per_page, "total": 0}}

    @bp.get("/<int:item_id>")
    @spec.validate(resp=Response(HTTP_200=ItemOut))
    def read(item_id):
        return {{"id": item_id, "name": "a name", "description": ""}}

    app = create_app(load_config(CONFIG))
    app.register_blueprint(bp)
    spec.register(app)
    return app, "/apidoc/openapi.json"


def make_flask_openapi3():
    from flask_openapi3 import APIBlueprint, OpenAPI

    # The generated factory makes an api.JsonApi: make it flask-openapi3's app class too.
    class OpenJsonApi(OpenAPI, api.JsonApi):
        pass

    api.JsonApi = OpenJsonApi
    try:  # the service's own document: flask-openapi3 names its blueprint "openapi" too
        from {PACKAGE} import openapi as own
    except ImportError:
        pass
    else:
        own.bp.name = "service_openapi"
    bp = APIBlueprint("bench", __name__, url_prefix="/bench/items")

    @bp.post("", responses={{201: ItemOut}})
    def create(body: ItemCreate):
        return {{"id": 1, "name": body.name, "description": body.description}}, 201

    @bp.get("", responses={{200: Page}})
    def list_items(query: PageQuery):
        return {{"items": [], "page": query.page, "per_page": query.per_page, "total": 0}}

    @bp.get("/<int:item_id>", responses={{200: ItemOut}})
    def read(path: ItemPath):
        return {{"id": path.item_id, "name": "a name", "description": ""}}

    app = create_app(load_config(CONFIG))
    app.register_api(bp)
    return app, "/openapi/openapi.json"


MAKERS = {{"none": make_none, "apispec": make_apispec, "spectree": make_spectree,
          "flask-openapi3": make_flask_openapi3}}


def call(app, environ, body):
    environ = dict(environ)
    environ["wsgi.input"] = io.BytesIO(body or b"")
    status = []
    answer = app(environ, lambda line, headers, exc_info=None: status.append(line))
    try:
        b"".join(answer)
    finally:
        getattr(answer, "close", lambda: None)()
    return status[0]


def measure(name, count):
    app, document = MAKERS[name]()
    result = {{}}
    for route, (method, path, body) in REQUESTS.items():
        builder = EnvironBuilder(path=path, method=method, data=body,
                                 content_type="application/json" if body else None)
        environ = builder.get_environ()
        status = call(app, environ, body)
        assert status[:3] in {{"200", "201"}}, (name, route, status)
        for _ in range(count // 10):
            call(app, environ, body)
        started = time.perf_counter()
        for _ in range(count):
            call(app, environ, body)
        result[route] = (time.perf_counter() - started) / count * 1e6
    if document:
        environ = EnvironBuilder(path=document).get_environ()
        started = time.perf_counter()
        status = call(app, environ, None)
        result["document"] = (time.perf_counter() - started) * 1e3
        assert status.startswith("200"), (name, status)
    return result


if __name__ == "__main__":
    if sys.argv[1] == "start":
        MAKERS[sys.argv[2]]()
    else:
        print(json.dumps(measure(sys.argv[1], int(sys.argv[2]))))
"""


def run(*command: str | Path, cwd: Path | None = None) -> str:
    """Run a command as bench/run.py does, waiting longer; return stdout and stderr.

    stderr too: `python -X importtime` writes its figures there.
    """
    return shared.run(*command, cwd=cwd, timeout=1800, stderr=True)


def generate(work: Path) -> Path:
    """Generate the default service into `work`, install it and the candidates there."""
    project = shared.generate(work / "service", {})
    run("uv", "pip", "install", "--quiet", "--python", ".venv/bin/python", *PINS, cwd=project)
    (project / "candidates.py").write_text(CANDIDATES_MODULE)
    return project


def rotated(round_: int) -> tuple[str, ...]:
    """Return the candidates in this round's order: each goes first in turn."""
    shift = round_ % len(CANDIDATES)
    return CANDIDATES[shift:] + CANDIDATES[:shift]


def per_request(project: Path, rounds: int, count: int) -> dict[str, dict[str, list[float]]]:
    """Return each candidate's microseconds per request of each route, one value per round."""
    found: dict[str, dict[str, list[float]]] = {name: {} for name in CANDIDATES}
    for round_ in range(rounds):
        for name in rotated(round_):
            output = run(".venv/bin/python", "candidates.py", name, str(count), cwd=project)
            for route, value in json.loads(output.strip().splitlines()[-1]).items():
                found[name].setdefault(route, []).append(value)
    return found


def cold_start(project: Path, rounds: int) -> dict[str, list[float]]:
    """Return the milliseconds of importing and creating each candidate's app, per round."""
    found: dict[str, list[float]] = {name: [] for name in CANDIDATES}
    for round_ in range(rounds + 1):  # the first round only warms the file cache
        for name in rotated(round_):
            started = time.perf_counter()
            run(".venv/bin/python", "candidates.py", "start", name, cwd=project)
            if round_:
                found[name].append((time.perf_counter() - started) * 1000)
    return found


def import_cost(project: Path, module: str, repeats: int) -> list[float]:
    """Return the milliseconds importing `module` adds once the service is imported."""
    found = []
    for _ in range(repeats):
        output = run(
            ".venv/bin/python", "-X", "importtime", "-c",
            f"import {PACKAGE}, {PACKAGE}.items; import {module}", cwd=project,
        )  # fmt: skip
        line = next(line for line in output.splitlines() if line.endswith(f"| {module}"))
        found.append(int(line.split("|")[1]) / 1000)
    return found


def spread(values: list[float], digits: int = 1) -> str:
    """Return the median and range of `values`."""
    low, high = min(values), max(values)
    return f"{statistics.median(values):.{digits}f} ({low:.{digits}f} to {high:.{digits}f})"


def main() -> None:
    """Measure every candidate and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--count", type=int, default=3000, help="requests per route and round")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-openapi-") as folder:
        project = generate(Path(folder))
        found = per_request(project, arguments.rounds, arguments.count)
        starts = cold_start(project, rounds=2 * arguments.rounds)
        imports = {
            name: import_cost(project, module, repeats=5) for name, module in MODULES.items()
        }
    print(f"Per request, µs (median of {arguments.rounds} rounds, range), WSGI call loop:\n")
    print("| candidate | " + " | ".join(ROUTES) + " | first GET of the document, ms |")
    print("| --- " * (len(ROUTES) + 2) + "|")
    base = {route: statistics.median(found["none"][route]) for route in ROUTES}
    for name in CANDIDATES:
        cells = []
        for route in ROUTES:
            values = found[name][route]
            extra = statistics.median(values) - base[route]
            cells.append(spread(values) + ("" if name == "none" else f", {extra:+.1f}"))
        document = found[name].get("document")
        cells.append(spread(document) if document else "")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\nCold start: import + create the app, ms (median of alternated runs, range):\n")
    print("| candidate | import + create | difference | the library's own import, ms |")
    print("| --- | --- | --- | --- |")
    for name in CANDIDATES:
        extra = statistics.median(starts[name]) - statistics.median(starts["none"])
        own = spread(imports[name]) if name in imports else ""
        print(f"| {name} | {spread(starts[name], 0)} | {extra:+.0f} | {own} |")


if __name__ == "__main__":
    main()

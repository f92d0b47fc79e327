"""Doctor's snippets: views (see tests/doctor_corpus/__init__.py).

How real apps declare their app, views, hooks and background work, and start gunicorn: each
snippet shows doctor's rules firing where the pattern is, and, for a near miss, silent.
"""

SNIPPETS: dict[str, dict[str, str]] = {
    # 1. Flask and Blueprint subclasses -------------------------------------------------------
    "flask-subclass": {
        "shop/__init__.py": """
            import flask


            class BaseFlask(flask.Flask):
                pass


            class ShopFlask(BaseFlask):
                pass


            app = ShopFlask(__name__)  # expect: FD202


            def create_app():
                return ShopFlask(__name__)
        """,
    },
    "flask-subclass-other-module": {
        "shop/__init__.py": "",
        "shop/base.py": """
            from flask import Flask


            class ShopFlask(Flask):
                pass
        """,
        "shop/app.py": """
            from flask_sqlalchemy import SQLAlchemy

            from .base import ShopFlask

            app = ShopFlask(__name__)  # expect: FD202
            db = SQLAlchemy(app)  # expect: FD201
            app.run()  # expect: FD503
        """,
        "shop/factory.py": """
            from .base import ShopFlask


            def create_app():
                return ShopFlask(__name__)
        """,
    },
    "unrelated-class-called-like-app": {
        "shop/__init__.py": """
            class Shop:
                pass


            app = Shop()


            def create_app():
                from flask import Flask

                return Flask(__name__)
        """,
    },
    "blueprint-subclass-view": {
        "shop/api.py": """
            from flask import Blueprint


            class ApiBlueprint(Blueprint):
                pass


            api = ApiBlueprint("api", __name__)
            SEEN = []


            @api.get("/seen")
            def seen():
                SEEN.append(1)  # expect: FD301
                return {"seen": len(SEEN)}
        """,
    },
    # 2. Every view style --------------------------------------------------------------------
    "add-url-rule-class-handler": {
        "shop/views.py": """
            from flask import Flask

            from shop.base import Handler

            CACHE = {}


            class ProductHandler(Handler):
                def get(self, key, seen=[]):  # expect: FD302
                    CACHE[key] = 1  # expect: FD301
                    return "ok"


            class OrderHandler(Handler):
                def process(self):
                    CACHE.clear()  # expect: FD301
                    return "ok"

                def _helper(self):
                    CACHE.clear()


            def create_app():
                app = Flask(__name__)
                app.add_url_rule("/p/<key>", view_func=ProductHandler.as_view("product"))
                app.add_url_rule("/o", "order", OrderHandler.as_view("order"))
                return app
        """,
    },
    "class-not-registered-is-not-a-view": {
        "shop/jobs.py": """
            CACHE = {}


            class Importer:
                def get(self, key):
                    CACHE[key] = 1
        """,
    },
    "methodview-by-name": {
        "shop/api.py": """
            from flask import Blueprint
            from flask.views import MethodView

            bp = Blueprint("api", __name__)
            ITEMS = []


            class ItemAPI(MethodView):
                def post(self):
                    ITEMS.append(1)  # expect: FD301
                    return "", 201


            bp.add_url_rule("/items", view_func=ItemAPI.as_view("items"))
        """,
    },
    "methodview-through-helper": {
        "shop/api.py": """
            from flask import Blueprint

            from shop.base import Endpoint

            bp = Blueprint("api", __name__)
            SEEN = set()


            class Users(Endpoint):
                def get(self, user_id):
                    SEEN.add(user_id)  # expect: FD301
                    return "ok"


            def register_api(blueprint, view, name, url):
                blueprint.add_url_rule(url, view_func=view.as_view(name))


            register_api(bp, Users, "users", "/users/<int:user_id>")
        """,
    },
    "restx-resource": {
        "shop/api.py": """
            from flask_restx import Namespace
            from flask_restx import Resource as Base

            from shop.base import ProjectBase

            ns = Namespace("todos")
            TODOS = {}


            @ns.route("/<int:todo_id>")
            class Todo(Base):
                def put(self, todo_id):
                    TODOS[todo_id] = 1  # expect: FD301
                    return {}


            @ns.route("/<int:todo_id>/done")
            class Done(ProjectBase):
                def post(self, todo_id):
                    TODOS.pop(todo_id)  # expect: FD301
                    return {}
        """,
    },
    "restful-add-resource": {
        "shop/resources.py": """
            from shop.base import ShopResource

            HITS = {}


            class Hits(ShopResource):
                def get(self, name):
                    HITS[name] = HITS.get(name, 0) + 1  # expect: FD304
                    return HITS
        """,
        "shop/base.py": """
            from flask_restful import Resource


            class ShopResource(Resource):
                pass
        """,
    },
    "restful-add-resource-call": {
        "shop/api.py": """
            from flask_restful import Api

            from shop.base import Handler

            COUNTS = {}


            class Counter(Handler):
                def post(self):
                    COUNTS["n"] = 1  # expect: FD301


            def init_app(app):
                Api(app).add_resource(Counter, "/count")
        """,
    },
    "admin-expose": {
        "shop/admin.py": """
            from flask_admin import BaseView, expose

            VISITS = []


            class Dashboard(BaseView):
                @expose("/")
                def index(self):
                    VISITS.append(1)  # expect: FD301
                    return self.render("dashboard.html")

                def is_accessible(self):
                    return True
        """,
    },
    "before-request-by-call": {
        "shop/hooks.py": """
            SEEN = []


            def remember():
                SEEN.append(1)  # expect: FD301


            def count(response):
                SEEN.append(2)  # expect: FD301
                return response


            def not_found(error):
                SEEN.append(3)  # expect: FD301
                return "", 404


            def on_error(error):
                SEEN.append(4)  # expect: FD301
                return "", 500


            def inject():
                SEEN.append(5)  # expect: FD301
                return {}


            def index():
                SEEN.append(6)  # expect: FD301
                return "ok"


            def pull_lang(endpoint, values):
                SEEN.append(7)  # expect: FD301


            def helper():
                SEEN.append(8)


            def init_app(app, bp):
                bp.before_app_request(remember)
                app.after_request(count)
                app.errorhandler(404)(not_found)
                app.register_error_handler(Exception, on_error)
                app.context_processor(inject)
                app.add_url_rule("/", view_func=index)
                app.url_value_preprocessor(pull_lang)
        """,
    },
    "teardown-by-call": {
        "shop/db.py": """
            def close_db(error=None):
                db = None
                db.close()  # expect: FD601


            def init_app(app):
                app.teardown_appcontext(close_db)
        """,
    },
    # 3. Background hand-offs ----------------------------------------------------------------
    "gevent-spawn": {
        "shop/views.py": """
            import gevent
            from flask import request


            def audit():
                print(request.path)  # expect: FD101


            def later(path):
                print(path)


            def ping():
                gevent.spawn(audit)
                gevent.spawn_later(5, later, request.path)
                return "ok"
        """,
    },
    "socketio-background-task": {
        "shop/sockets.py": """
            from flask import session

            from shop.extensions import socketio


            def push_updates():
                socketio.emit("update", session["user"])  # expect: FD101


            @socketio.on("connect")
            def connect():
                socketio.start_background_task(push_updates)
        """,
    },
    "rq-enqueue": {
        "shop/views.py": """
            from datetime import timedelta

            from flask import g, request

            from shop.queue import queue


            def send_receipt():
                print(request.args["email"], g.user)  # expect: FD101


            def send_reminder():
                print(request.args["email"])  # expect: FD101


            def send_digest(email):
                print(email, g.user)
                return request.url  # expect: FD101


            def checkout():
                queue.enqueue(send_receipt)
                queue.enqueue_in(timedelta(hours=1), send_reminder)
                queue.enqueue_call(func=send_digest, args=(request.args["email"],))
                return "ok"
        """,
    },
    "rq-job-decorator": {
        "shop/jobs.py": """
            from flask import current_app, request
            from rq.decorators import job


            @job("default")
            def resize(image_id):
                print(request.host, current_app.name)  # expect: FD101
        """,
    },
    "create-task-in-view": {
        "shop/views.py": """
            import asyncio

            from flask import request

            from shop import bp


            async def notify():
                print(request.remote_addr)  # expect: FD101


            async def wait_for(path):
                print(path)


            @bp.post("/order")
            async def order():
                asyncio.create_task(notify())
                asyncio.ensure_future(wait_for(request.path))
                return "ok"
        """,
    },
    "executor-map": {
        "shop/views.py": """
            from concurrent.futures import ThreadPoolExecutor

            from flask import request

            executor = ThreadPoolExecutor(4)


            def fetch(url):
                return url + request.headers["X-Trace"]  # expect: FD101


            def fan_out():
                return list(executor.map(fetch, ["a", "b"]))
        """,
    },
    "process-target": {
        "shop/views.py": """
            import multiprocessing

            from flask import request


            def render_pdf():
                print(request.args)  # expect: FD101


            def thumbnail():
                print(request.files)  # expect: FD101


            def export():
                multiprocessing.Process(target=render_pdf).start()
                with multiprocessing.Pool() as pool:
                    pool.apply_async(thumbnail)
        """,
    },
    "thread-subclass-run": {
        "shop/views.py": """
            import threading

            from flask import request


            class Mailer(threading.Thread):
                def run(self):
                    print(request.form)  # expect: FD101


            class Copier(threading.Thread):
                def __init__(self, form):
                    super().__init__()
                    self.form = form

                def run(self):
                    print(self.form)
        """,
    },
    # 4. A project's own "run with a request context" task option ----------------------------
    "task-with-request-context-base": {
        "shop/tasks.py": """
            from flask import request

            from shop.celery import celery
            from shop.context import RequestContextTask


            class PlainTask(celery.Task):
                def __call__(self, *args, **kwargs):
                    return super().__call__(*args, **kwargs)


            @celery.task(base=RequestContextTask)
            def log_visit():
                print(request.path)


            @celery.task(base=PlainTask)
            def log_other():
                print(request.path)  # expect: FD101
        """,
        "shop/context.py": """
            from shop.app import app
            from shop.celery import celery


            class RequestContextTask(celery.Task):
                def __call__(self, *args, **kwargs):
                    with app.test_request_context():
                        return super().__call__(*args, **kwargs)
        """,
    },
    "task-request-context-keyword": {
        "shop/tasks.py": """
            from celery import shared_task
            from flask import request, session

            from shop.celery import celery


            @celery.task(with_request_context=True)
            def audit():
                print(request.path)


            @shared_task(request_context=True)
            def touch():
                print(session["user"])


            @shared_task(request_context=False)
            def forget():
                print(session["user"])  # expect: FD101
        """,
    },
    # 5. gunicorn on the command line and in the environment ---------------------------------
    "procfile-gunicorn": {
        "Procfile": """
            web: gunicorn -w 4 --preload app:app  # expect: FD802
            worker: rq worker
        """,
        "app.py": """
            import pymongo
            from flask import Flask

            cache = pymongo.MongoClient()  # expect: FD801
            app = Flask(__name__)
        """,
    },
    "dockerfile-cmd-gunicorn": {
        "Dockerfile": """
            FROM python:3.12-slim
            RUN pip install gunicorn gevent
            CMD ["gunicorn", "-w4", "-k", "gevent", "--preload", "app:app"]  # expect: FD802, FD803
        """,
        "Containerfile": """
            FROM python:3.12-slim
            CMD gunicorn --bind [::]:8000 --workers 2 app:app  # expect: FD802
        """,
        "Dockerfile.dev": """
            FROM python:3.12-slim
            CMD gunicorn -b [::]:80 -w $(nproc) -k gevent --preload app:app  # expect: FD803
        """,
        "app.py": """
            import requests
            from flask import Flask

            app = Flask(__name__)
        """,
    },
    "dockerfile-shell-form-gevent-patched": {
        "Dockerfile": """
            FROM python:3.12-slim
            CMD gunicorn --workers=$WEB_CONCURRENCY --worker-class gevent --preload wsgi:app
        """,
        "wsgi.py": """
            from gevent import monkey

            monkey.patch_all()

            import requests
            from flask import Flask

            app = Flask(__name__)
        """,
    },
    "entrypoint-gevent-without-preload": {
        "docker/entrypoint.py": """
            import subprocess

            from flask import g


            def serve():
                subprocess.run(["gunicorn", "-w", "4", "app:app"], check=True)


            def later():
                print(g.user)  # expect: FD101


            def main():
                import threading

                threading.Thread(target=later).start()
        """,
        "docker/Dockerfile": """
            FROM python:3.12-slim
            ENTRYPOINT ["/srv/docker-entrypoint"]
        """,
        "docker/docker-entrypoint": """
            #!/bin/sh
            set -e
            flask db upgrade
            case "$1" in
              admin) exec gunicorn -w 2 --preload admin:app ;;  # expect: FD802
              *) exec gunicorn -k gevent -w "${WEB_CONCURRENCY:-2}" -b 0.0.0.0:8000 app:app ;;
            esac
        """,
        "app.py": """
            import requests
            from flask import Flask

            app = Flask(__name__)
        """,
    },
    "compose-command-gunicorn": {
        "compose.yaml": """
            services:
              web:
                build: .
                command: gunicorn --workers 3 shop:app  # expect: FD802
              api:
                build: .
                command: ["gunicorn", "--workers", "2", "api:app"]  # expect: FD802
              admin:
                build: .
                command:  # expect: FD802
                  - gunicorn
                  - -w
                  - "2"
                  - admin:app
              worker:
                build: .
                command: celery -A shop worker
        """,
    },
    "gunicorn-cmd-args-env": {
        "compose.yaml": """
            services:
              web:
                build: .
                environment:
                  GUNICORN_CMD_ARGS: "--workers 4 --preload"  # expect: FD802
              other:
                environment:
                  - "GUNICORN_CMD_ARGS=--workers=${WORKERS:-2}"
        """,
        ".env": """
            GUNICORN_CMD_ARGS="--workers 8 --threads 4"  # expect: FD802
        """,
        "Dockerfile": """
            FROM python:3.12-slim
            ENV GUNICORN_CMD_ARGS="--workers 2"  # expect: FD802
            CMD ["gunicorn", "app:app"]
        """,
        "app.py": """
            import sqlalchemy
            from flask import Flask

            engine = sqlalchemy.create_engine("sqlite://")  # expect: FD801
            app = Flask(__name__)
        """,
    },
    "gunicorn-cmd-args-env-gevent": {
        "Dockerfile": """
            FROM python:3.12-slim
            ENV GUNICORN_CMD_ARGS="-k gevent --preload"
            CMD ["gunicorn", "app:app"]  # expect: FD803
        """,
        "app.py": """
            import redis
            from flask import Flask

            app = Flask(__name__)
        """,
    },
    "gunicorn-config-named-by-option": {
        "Dockerfile": """
            FROM python:3.12-slim
            CMD ["gunicorn", "-c", "deploy/web.py", "app:app"]
        """,
        "deploy/web.py": """
            preload_app = True
            workers = 4  # expect: FD802
        """,
        "deploy/other.py": """
            workers = 4
        """,
        "app.py": """
            import pymongo
            from flask import Flask

            cache = pymongo.MongoClient()  # expect: FD801
            app = Flask(__name__)
        """,
    },
    "systemd-execstart": {
        "deploy/shop.service": """
            [Unit]
            Description=shop

            [Service]
            ExecStart=/srv/.venv/bin/gunicorn -w 4 -k gevent --preload app:app  # expect: FD803
            Restart=always
        """,
        "app.py": """
            import redis
            from flask import Flask

            app = Flask(__name__)
        """,
    },
    "shell-script-gunicorn": {
        "scripts/serve.sh": """
            #!/bin/sh
            export GUNICORN_CMD_ARGS="--bind 0.0.0.0:8000"
            cd /srv/shop && python -m gunicorn --preload -w 2 shop.wsgi:app
        """,
        "scripts/other.sh": """
            #!/bin/sh
            echo "no server here"
        """,
        "shop/__init__.py": "",
        "shop/wsgi.py": """
            from flask import Flask

            app = Flask(__name__)
        """,
        "shop/db.py": """
            import psycopg2

            conn = psycopg2.connect("")  # expect: FD801
        """,
    },
}

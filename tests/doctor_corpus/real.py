"""Doctor's snippets: real (see tests/doctor_corpus/__init__.py).

One snippet per pattern met in the labelled corpus; labels.json names, for each labelled
site, the snippet that reproduces it. The `# expect:` markers say what today's doctor
reports, whatever the label: a `true` site with no marker is a miss, a `false` site with
one is a false positive. The comment above each entry gives the label and the pattern.
"""

SNIPPETS: dict[str, dict[str, str]] = {
    # true FD501: the settings module every deployment loads holds the secret key and salt.
    "real-default-settings-secret": {
        "shop/default_settings.py": """
            SECRET_KEY = "changeme"  # expect: FD501
            SALT = "$2b$12$Qm9vZ2xlU2FsdFNhbHQ"  # expect: FD501
            SITE_NAME = "Shop"
            """,
        "shop/settings.py": """
            class Settings:
                defaults = {
                    "port": 8080,
                    "secret_key": "7d5c1f0a9e3b4c2d8f6a1b0c9d8e7f6a",  # expect: FD501
                }
            """,
    },
    # true FD501: a secret in the image's environment or a deployment manifest (doctor reads
    # Python only, so both are missed); noisy: a database password on the compose network.
    "real-deploy-file-secret": {
        "Dockerfile": """
            FROM python:3.12-slim
            ENV SECRET_KEY="lalala" \\
                PORT=8000
            CMD ["gunicorn", "shop.wsgi:app"]
            """,
        "deploy/configmap.yml": """
            apiVersion: v1
            kind: ConfigMap
            data:
              SECRET_KEY: change_this_secret
            """,
        "docker-compose.yml": """
            services:
              db:
                environment:
                  - MARIADB_PASSWORD=shop
            """,
        "shop/__init__.py": "",
    },
    # noisy FD501: the development configuration's key, database password and URL default.
    "real-dev-config-secret": {
        "configs/development.py": """
            import os

            SECRET_KEY = "a3f1c9e07b2d4e6f8a0b1c2d3e4f5a6b"  # expect: FD501 (warning)
            DB_PASSWORD = "changeme"  # expect: FD501 (warning)
            SQLALCHEMY_DATABASE_URI = os.getenv(
                "SQLALCHEMY_DATABASE_URI",
                "mysql://shop:changeme@mysql/shop",  # expect: FD501 (warning)
            )
            """,
    },
    # noisy FD501: environment defaults: a key the app refuses to serve with, a local
    # database's password, a CLI command's LDAP password.
    "real-env-default-secret": {
        "shop/config.py": """
            import os

            DEBUG = os.getenv("DEBUG") == "1"
            SECRET_KEY = os.getenv("SECRET_KEY", "localsecretkey")  # expect: FD501 (warning)
            if SECRET_KEY == "localsecretkey" and not DEBUG:
                raise RuntimeError("set SECRET_KEY")
            DATABASE = {
                "host": os.getenv("DB_HOST", "localhost"),
                "password": os.getenv("DB_PASSWORD", "localpassword"),  # expect: FD501 (warning)
            }
            """,
        "shop/commands.py": """
            import os


            def sync_ldap():
                LDAP_PASSWORD = os.getenv("LDAP_PASSWORD", "password")  # expect: FD501 (warning)
                return LDAP_PASSWORD
            """,
    },
    # noisy FD501: the shipped settings file's placeholder key, which the app refuses to
    # serve with unless in debug; false: the comparison that refuses it.
    "real-refused-default-secret": {
        "shop/settings.yml": """
            server:
              secret_key: "notsosecretkey"  # overridden by $SHOP_SECRET
            """,
        "shop/webapp.py": """
            import sys

            from flask import Flask

            from shop.settings import get_setting

            app = Flask(__name__)
            if not app.debug and get_setting("server.secret_key") == "notsosecretkey":
                sys.exit("server.secret_key is not changed")
            """,
    },
    # noisy FD501: the test configuration's own secrets, by path or by name; the one made of
    # one repeated character is not reported.
    "real-test-config-secret": {
        "shop/tests/conf.py": """
            TOKEN_SECRET = "test"  # expect: FD501 (warning)
            """,
        "configs/test.py": """
            SECRET_KEY = "3b9d0c7e52a14f6d8e2b71c4a9f0e6d5"  # expect: FD501 (warning)
            """,
        "shop/config.py": """
            class TestingConfig:
                TESTING = True
                SECRET_KEY = "AAAAAAAAAAAAAAAAAAAA"  # expect: FD501 (warning)
            """,
        "test-core.ini": """
            [app:main]
            SECRET_KEY = not_a_real_secret_for_tests
            """,
    },
    # false FD501: credentials of users, containers and services that only tests create.
    "real-test-fixture-credentials": {
        "configs/test.py": """
            TEST_USER = "test"
            TEST_USER_PASSWORD = "test"
            TEST_USER_APIKEY = "qwdfrtgzhujik"
            """,
        "docker/browser-test/seed.py": """
            import os

            API_KEY = os.environ.get("PDNS_API_KEY", "changeme")  # expect: FD501 (warning)
            """,
        "shop/testing/database.py": """
            def start_postgres(client):
                return client.create_container(
                    "postgres",
                    environment={"POSTGRES_PASSWORD": "postgres"},
                )
            """,
        ".github/workflows/tests.yml": """
            services:
              postgres:
                env:
                  POSTGRES_PASSWORD: postgres
            """,
    },
    # false FD501: a throwaway user's password, a CSRF field and a fake mail server in tests.
    "real-test-form-credentials": {
        "tests/test_signup.py": """
            def test_signup(client):
                client.post(
                    "/signup",
                    data={
                        "name": "user",
                        "password": "password",
                        "csrf_token": "test",
                    },
                )


            def test_mail(app):
                app.config["MAIL_PASSWORD"] = "password"
            """,
    },
    # false FD501: email templates about passwords.
    "real-email-template-names": {
        "shop/emails.py": """
            PASSWORD_RESET_SUBJECT = "Reset your password on {site}"
            PASSWORD_RESET_BODY = (
                "Follow {url} to choose a new password."
            )
            """,
    },
    # false FD501: the names of cache and database keys that hold tokens.
    "real-key-name-constants": {
        "shop/limiter.py": """
            TOKEN_KEY = "shop_limiter.token"
            CSRF_PRIVATEKEY_CACHE = "private_csrf_token"
            SECRET_KEY_DB_KEY = "secret-key"
            """,
    },
    # false FD501: itsdangerous salts name what a signed token is for; they are not secret.
    "real-itsdangerous-salt": {
        "shop/auth.py": """
            from flask import request

            from shop.models import User
            from shop.security import serializer


            def confirm(token):
                return User.verify_hash(token, salt="confirm")


            def reset():
                return serializer.loads(request.args["token"], max_age=3600, salt="reset-password")
            """,
    },
    # false FD501: names of environment variables and configuration options, and the
    # marker that replaces a password in an audit log.
    "real-secret-setting-names": {
        "shop/environment.py": """
            ENV_OPTIONS = {
                "solr_user": "SHOP_SOLR_USER",
                "solr_password": "SHOP_SOLR_PASSWORD",
            }
            _config_encode_secret = "api_token.jwt.encode.secret"


            def redact(data):
                if "password" in data:
                    data["password"] = "[REDACTED]"
                return data
            """,
    },
    # false FD501: users' passwords in tests kept beside the code (`*_test.py`) and in
    # scripts that fill a development database with fake users.
    "real-fake-users": {
        "shop/auth_test.py": """
            import pytest

            USERS = [
                ("user1", "alicePassw0rd"),
                ({"identifier": "user2", "password": "bobPassw0rd"}, None),
            ]


            @pytest.mark.parametrize(("user", "password"), USERS)
            def test_login(user, password):
                assert user
            """,
        "populate.py": """
            from shop.models import Team, User

            Team(name="red", password="password")
            """,
        "shop/fake.py": """
            from shop.models import User


            def users(count):
                return [User(username=f"u{i}", password="password") for i in range(count)]
            """,
    },
    # false FD501: public token prefixes, already silenced for ruff.
    "real-token-prefixes": {
        "shop/oauth.py": """
            TOKEN_PREFIX_OAUTH = "shp_"  # noqa: S105
            TOKEN_PREFIX_PERSONAL = "shpp_"  # noqa: S105
            """,
    },
    # false FD502: DEBUG in the configuration class only the test suite uses.
    "real-testing-config-debug": {
        "shop/config.py": """
            class TestingConfig:
                TESTING = True
                DEBUG = True
            """,
    },
    # noisy FD502: DEBUG in the development configuration class, chosen by an option.
    "real-dev-config-debug": {
        "config.py": """
            class DevelopmentConfig:
                DEBUG = True
            """,
    },
    # noisy FD502: debug only where the module runs the development server itself.
    "real-main-debug-run": {
        "wsgi.py": """
            from shop import create_app

            app = create_app()

            if __name__ == "__main__":
                app.run(debug=True)  # expect: FD502 (warning)
            """,
        "shop/run.py": """
            from shop import create_app


            def main():
                create_app().run(host="0.0.0.0", debug=True)  # expect: FD502 (warning)
            """,
        "shop/webapp.py": """
            import os

            from flask import Flask

            app = Flask(__name__)
            if os.environ.get("SHOP_DEBUG"):
                app.debug = True  # expect: FD502 (warning)
            """,
    },
    # noisy FD201, FD502, FD503: a development script that runs the server with a profiler.
    "real-dev-script": {
        "serve.py": """
            import argparse

            from flask_debugtoolbar import DebugToolbarExtension

            from shop import create_app

            parser = argparse.ArgumentParser()
            parser.add_argument("--port", type=int, default=4000)
            args = parser.parse_args()
            app = create_app()
            toolbar = DebugToolbarExtension()
            toolbar.init_app(app)
            app.run(debug=True, port=args.port)  # expect: FD502 (warning), FD503 (warning)
            """,
        "shop/run.py": """
            from shop import create_app

            app = create_app()
            app.run(debug=True)  # expect: FD502, FD503
            """,
    },
    # false FD502: `debug=True` given to a library that is not Flask.
    "real-not-flask-debug": {
        "shop/notify.py": """
            import apprise


            def notifier():
                return apprise.Apprise(debug=True)
            """,
    },
    # noisy FD201: a one-module app with no factory binds its extensions at import.
    "real-one-module-app-extensions": {
        "shop/app.py": """
            from flask import Flask
            from flask_babel import Babel
            from flask_cors import CORS
            from flask_wtf import CSRFProtect

            app = Flask(__name__)
            CORS(app)  # expect: FD201 (warning)
            babel = Babel(app)  # expect: FD201 (warning)
            csrf = CSRFProtect()
            csrf.init_app(app)  # expect: FD201 (warning)
            """,
    },
    # true FD301: a before_request hook writes a request header into the shared app.config.
    "real-hook-mutates-app-config": {
        "shop/app.py": """
            from flask import Flask, request

            app = Flask(__name__)


            @app.before_request
            def cookie_path_from_proxy():
                if "X-Forwarded-Prefix" in request.headers:
                    prefix = request.headers["X-Forwarded-Prefix"]
                    app.config["SESSION_COOKIE_PATH"] = prefix  # expect: FD301
            """,
    },
    # false FD301: a handler class made once per request (indico's RH, like MethodView and
    # Resource) keeps the request's objects on self.
    "real-handler-instance-state": {
        "shop/controllers.py": """
            from flask import request

            from shop.models import Event
            from shop.web import RH


            class RHEventBase(RH):
                def _process_args(self):
                    self.event = Event.get(request.view_args["event_id"])


            class RHEventPage(RHEventBase):
                def _process(self):
                    return self.event.title
            """,
        "shop/blueprint.py": """
            from flask import Blueprint

            from shop.controllers import RHEventPage

            bp = Blueprint("events", __name__)
            bp.add_url_rule("/event/<int:event_id>", view_func=RHEventPage.as_view("page"))
            """,
    },
    # false FD301: hooks registered by call, on an extension's methods, keep the request's
    # id on `g`, which is per request.
    "real-hook-by-call-sets-g": {
        "shop/tracing.py": """
            import uuid

            from flask import g, request


            class Tracing:
                def init_app(self, app):
                    app.before_request(self.get_request_id)
                    app.after_request(self.set_request_id)

                @staticmethod
                def get_request_id():
                    g.request_id = request.headers.get("X-Request-ID") or str(uuid.uuid4())

                @staticmethod
                def set_request_id(response):
                    response.headers["X-Request-ID"] = g.request_id
                    return response
            """,
    },
    # noisy FD301: a single-process app keeps its live browser sessions in a module dict.
    "real-view-session-registry": {
        "shop/steps.py": """
            import uuid

            from flask import Blueprint, request

            bp = Blueprint("steps", __name__)
            sessions = {}


            @bp.route("/start")
            def start():
                key = str(uuid.uuid4())
                sessions[key] = request.args.get("uuid")  # expect: FD304
                return key
            """,
    },
    # noisy FD301: a hook makes the OAuth clients once per process through `global`.
    "real-lazy-global-clients": {
        "shop/routes.py": """
            from flask import Blueprint, current_app

            bp = Blueprint("index", __name__)
            google = None


            def make_google():
                return object()


            @bp.before_app_request
            def register_clients():
                global google
                if current_app.extensions.get("clients"):
                    return
                google = make_google()  # expect: FD301 (warning)
                current_app.extensions["clients"] = True
            """,
    },
    # false FD101: a local `session` (an HTTP client) shadows flask.session in a thread body.
    "real-local-named-session": {
        "shop/app.py": """
            import threading

            import requests
            from flask import Flask, session

            app = Flask(__name__)


            @app.route("/")
            def index():
                return session.get("name", "")


            def check_version():
                session = requests.Session()
                session.verify = False
                session.post("https://example.org/version")


            threading.Thread(target=check_version, daemon=True).start()
            """,
    },
    # false FD101: the task asks its Celery for a request context of its own.
    "real-task-with-request-context": {
        "shop/tasks.py": """
            from flask import session

            from shop.celery import celery


            @celery.task(request_context=True)
            def build_site(site):
                session.lang = site.lang
                return site.build()
            """,
    },
    # false FD101: the view reads the request and hands the task plain values; the task
    # sets `g` inside the app context Flask's Celery pattern pushes.
    "real-task-passes-values": {
        "shop/tasks.py": """
            from flask import g

            from shop.celery import celery


            @celery.task
            def act(ids, login):
                for alert_id in ids:
                    g.login = login
            """,
        "shop/views.py": """
            from flask import Blueprint, g, request

            from shop.tasks import act

            bp = Blueprint("bulk", __name__)


            @bp.route("/bulk", methods=["PUT"])
            def bulk():
                act.delay(request.json["ids"], g.login)
                return "", 202
            """,
    },
    # false FD101: an RQ job imports the app as `current_app` and pushes its app context.
    "real-rq-job-pushes-app-context": {
        "shop/services.py": """
            def prepare_movie(preview_id):
                from shop.app import app as current_app

                with current_app.app_context():
                    current_app.logger.warning("preparing %s", preview_id)
            """,
        "shop/views.py": """
            from flask import Blueprint, request

            from shop.queue import job_queue
            from shop.services import prepare_movie

            bp = Blueprint("previews", __name__)


            @bp.route("/previews", methods=["POST"])
            def upload():
                job_queue.enqueue(prepare_movie, args=(request.form["id"],))
                return "", 202
            """,
    },
    # noisy FD301: Socket.IO handlers keep rooms and counts in module dicts; the event
    # server is documented as one process (missed: doctor does not read socketio.on).
    "real-socketio-room-state": {
        "shop/events.py": """
            from flask_socketio import SocketIO

            from shop import create_app

            app = create_app()
            socketio = SocketIO()
            socketio.init_app(app, async_mode="gevent")
            stats = {"connections": 0}
            rooms = {}


            @socketio.on("connect")
            def connected(_):
                stats["connections"] += 1


            @socketio.on("room:open")
            def open_room(data):
                rooms[data["id"]] = {"people": []}
            """,
    },
    # false FD101: `Thread(target=self.fetch())` calls fetch in the request's own thread.
    "real-thread-target-called": {
        "shop/saml.py": """
            from threading import Thread

            from flask import current_app


            class Saml:
                def metadata(self):
                    Thread(target=self.fetch()).start()

                def fetch(self):
                    return current_app.config["SAML_METADATA_URL"]
            """,
    },
    # false FD401: the blocking sleep is in a plain function the coroutine runs in an
    # executor (today's doctor reports it in a Flask module; the corpus's site is not one).
    "real-sync-helper-in-executor": {
        "shop/fetch.py": """
            import asyncio
            import time

            from flask import Blueprint

            bp = Blueprint("fetch", __name__)


            @bp.route("/fetch")
            async def fetch():
                def run_sync():
                    time.sleep(5)  # expect: FD401
                    return "page"

                return await asyncio.get_running_loop().run_in_executor(None, run_sync)
            """,
    },
    # true FD601: the teardown removes the session unguarded.
    "real-teardown-session-remove": {
        "shop/factory.py": """
            from flask import Flask

            from shop.extensions import db


            def create_app():
                app = Flask(__name__)

                @app.teardown_appcontext
                def teardown(exception=None):
                    if db.session:
                        db.session.remove()  # expect: FD601

                return app
            """,
        "shop/app.py": """
            from flask import Flask

            from shop.extensions import db


            def shutdown_session(exception=None):
                try:
                    if exception is not None:
                        db.session.rollback()
                except Exception:
                    pass
                finally:
                    db.session.remove()  # expect: FD601


            def create_app():
                app = Flask(__name__)
                app.teardown_appcontext(shutdown_session)
                return app
            """,
    },
    # true FD601 (missed): a database's init_app registers its method by call, and the
    # method closes the connection unguarded.
    "real-teardown-registered-by-call": {
        "shop/database.py": """
            from flask import g


            class Database:
                def init_app(self, app):
                    app.teardown_appcontext(self.teardown_db)

                def teardown_db(self, exc):
                    db = g.pop("db", None)
                    if db is not None:
                        self.close(db)  # expect: FD601

                def close(self, db):
                    db.close()
            """,
    },
    # noisy FD701: the factory configures logging right after Flask(), before app.logger.
    "real-logging-in-factory": {
        "shop/__init__.py": """
            import logging

            from flask import Flask


            def create_app():
                app = Flask(__name__)
                logging.basicConfig(level=logging.INFO)
                return app
            """,
        "shop/log.py": """
            from logging.config import dictConfig


            def setup_logging(app):
                level = app.config["LOG_LEVEL"]
                dictConfig({"version": 1, "root": {"level": level}})
            """,
    },
    # true FD802 (missed): a Procfile fixes gunicorn's workers on a platform that sizes the
    # dyno; noisy: a development VM's command line does the same.
    "real-procfile-workers": {
        "Procfile": """
            web: gunicorn "shop.app:create_app()" -b 0.0.0.0:$PORT -w 3  # expect: FD802
            """,
        "Vagrantfile": """
            Vagrant.configure("2") do |config|
              config.vm.provision "shell", inline: "gunicorn -w 4 'shop:create_app()'"
            end
            """,
        "shop/__init__.py": "",
    },
    # false FD802, FD803: an entrypoint reads the workers and the gevent worker class from
    # the environment, without --preload (gunicorn's gevent worker patches first).
    "real-entrypoint-workers-from-env": {
        "docker-entrypoint.sh": """
            #!/bin/sh
            WORKERS=${WORKERS:-1}
            WORKER_CLASS=${WORKER_CLASS:-gevent}
            exec gunicorn 'shop:create_app()' \\
                --bind '0.0.0.0:8000' \\
                --workers $WORKERS \\
                --worker-class "$WORKER_CLASS"
            """,
        "Dockerfile": """
            FROM python:3.12-slim
            ENTRYPOINT ["/opt/shop/docker-entrypoint.sh"]
            """,
        "shop/__init__.py": "",
    },
    # noisy FD304: an unbounded cache keyed by database ids from the request (small values,
    # bounded by the rows).
    "real-unbounded-cache-on-ids": {
        "shop/colors.py": """
            import functools


            @functools.cache
            def contrast_colors(seed):
                return (seed % 20) / 20
            """,
        "shop/views.py": """
            from flask import Blueprint, request

            from shop.colors import contrast_colors

            bp = Blueprint("calendar", __name__)


            @bp.route("/calendar")
            def calendar():
                return str(contrast_colors(int(request.args["category"])))
            """,
    },
    # false FD304: a bounded lru_cache, a cache keyed by classes, a cache of no arguments.
    "real-bounded-or-constant-cache": {
        "shop/caches.py": """
            import functools


            @functools.lru_cache
            def pwned_hashes(prefix):
                return prefix.upper()


            @functools.lru_cache(maxsize=None)
            def entity_type(cls):
                return cls.__name__


            @functools.cache
            def moment_locales():
                return {"en": "en-gb"}
            """,
    },
    # Held-out codebases (labels.json, "held_out": true): patterns met when measuring doctor
    # on codebases it was not tuned on.
    #
    # noisy FD802: one worker on purpose (the app keeps its sessions in the process); threads,
    # from the environment, serve the requests.
    "real-entrypoint-one-worker-by-design": {
        "entrypoint.sh": """
            #!/bin/sh
            # One process only: the sessions live in it. Threads scale it.
            exec gunicorn -b "0.0.0.0:80" -w 1 --threads "${THREADS:-25}" shop:app
            """,
        "Dockerfile": """
            FROM python:3.12-slim
            ENTRYPOINT ["/entrypoint.sh"]
            """,
        "shop/__init__.py": "",
    },
    # noisy FD501: a test method builds a throwaway Flask app with a placeholder secret key
    # (in a plain test function, doctor reads the same line as set-up and says nothing).
    "real-test-app-secret-key": {
        "shop/tests/test_session_state.py": """
            import unittest


            class SessionStateTestCase(unittest.TestCase):
                def runTest(self):
                    from flask import Flask, session

                    app = Flask(__name__)
                    app.secret_key = "test"
                    with app.test_request_context():
                        session["state"] = {"step": 1}
                        self.assertEqual(session["state"]["step"], 1)
            """,
    },
    # false FD501: the name of the header that carries an API key.
    "real-header-name-constant": {
        "shop/api.py": """
            from flask import request

            HEADER_API_KEY = "X-API-KEY"


            def api_key():
                return request.headers.get(HEADER_API_KEY)
            """,
    },
    # false FD501: a marker in a text (where an excerpt ends), named a token.
    "real-text-marker-token": {
        "shop/markdown.py": """
            EXCERPT_TOKEN = "<!-- more -->"


            def excerpt(text):
                return text.split(EXCERPT_TOKEN, 1)[0]
            """,
    },
    # false FD501: a test method's settings give a mocked object store made-up credentials.
    "real-test-mock-service-credentials": {
        "tests/test_harvest.py": """
            import pytest


            class HarvestTest:
                @pytest.mark.options(
                    S3_URL="https://example.org",
                    S3_ACCESS_KEY_ID="someone",
                    S3_SECRET_ACCESS_KEY="password",
                )
                def test_graph_stored(self, app):
                    assert app.config["S3_URL"]
            """,
    },
    # true FD501: the password salt of the default settings; false: Flask-Security's other
    # salts, which name a token's purpose for itsdangerous and are not secret.
    "real-security-purpose-salts": {
        "shop/settings.py": """
            class Defaults:
                SECURITY_PASSWORD_SALT = "Default myShop password salt"  # expect: FD501
                SECURITY_CONFIRM_SALT = "Default myShop confirm salt"
                SECURITY_RESET_SALT = "Default myShop reset salt"
                SECURITY_REMEMBER_SALT = "Default myShop remember salt"
            """,
    },
    # noisy FD502: DEBUG in a settings class only the development launcher chooses.
    "real-debug-settings-class": {
        "shop/settings.py": """
            class Defaults:
                DEBUG = False


            class Debug(Defaults):
                DEBUG = True
            """,
        "manage.py": """
            from shop.commands import cli

            if __name__ == "__main__":
                cli(settings="shop.settings.Debug")
            """,
    },
    # noisy FD501: a dict of defaults each read from the environment first; the container's
    # start script fails without SECRET_KEY, so only a run outside it uses the default.
    "real-env-defaults-dict-secret": {
        "shop/configuration.py": """
            import os

            DEFAULT_CONFIG = {
                "DEBUG": False,
                "SECRET_KEY": "changeMe",  # expect: FD501
            }


            def init_app(app):
                for key, value in DEFAULT_CONFIG.items():
                    app.config[key] = os.environ.get(key, value)
            """,
        "start.py": """
            import hmac
            import os

            key = os.environ["SECRET_KEY"].encode()
            os.environ["SECRET_KEY"] = hmac.new(key, b"SECRET", "sha256").hexdigest()
            """,
    },
    # false FD501: templates of database URLs, filled from the settings at start.
    "real-url-template-password": {
        "shop/configuration.py": """
            DB_TEMPLATES = {
                "sqlite": "sqlite:////{SQLITE_DATABASE_FILE}",
                "postgresql": "postgresql://{DB_USER}:{DB_PW}@{DB_HOST}/{DB}",
            }


            def database_uri(config):
                return DB_TEMPLATES[config["DB_FLAVOR"]].format(**config)
            """,
    },
    # false FD801: a redis client made at import with --preload: redis-py connects lazily
    # and its pool starts afresh in a forked process (it checks the pid), so workers share
    # no socket. (The fixed -w 4 in the image is a true FD802.)
    "real-redis-client-before-fork": {
        "Dockerfile": """
            FROM python:3.12-slim
            CMD gunicorn -w 4 -b :80 --preload main:app  # expect: FD802
            """,
        "main.py": """
            import redis
            from flask import Flask

            app = Flask(__name__)
            db = redis.StrictRedis(host="redis", port=6379, db=0)


            @app.route("/<uid>")
            def show(uid):
                return db.get(uid) or ""
            """,
    },
    # false FD502: `"debug": True` in python3-saml's settings, not Flask's.
    "real-saml-settings-debug": {
        "env-config/config.py": """
            ONELOGIN_SETTINGS = {
                "strict": True,
                "debug": True,
                "sp": {"entityId": "https://shop.example.org/metadata/"},
            }
            """,
    },
    # true FD501 (shown as warnings): the container's settings fall back to a placeholder key
    # and salt, and the environment file the compose deployment ships sets neither.
    "real-env-default-unset-by-deploy": {
        "env-config/config-docker.py": """
            import os

            SECRET_KEY = os.getenv(
                "SHOP_SECRET_KEY", "<INSERT_RANDOM_STRING_HERE>"  # expect: FD501 (warning)
            )
            SECURITY_PASSWORD_SALT = os.getenv(
                "SHOP_PASSWORD_SALT", "<INSERT_RANDOM_STRING_HERE>"  # expect: FD501 (warning)
            )
            """,
        "shop.env": """
            SHOP_DB_HOST=postgres
            SESSION_COOKIE_SECURE=False
            """,
        "docker-compose.yml": """
            services:
              api:
                image: shop:latest
                env_file: shop.env
            """,
    },
    # noisy FD501: the settings file for local development holds a placeholder key, salt
    # and SMTP password (a path doctor does not read as a development one).
    "real-local-config-secret": {
        "env-config/config-local.py": """
            # Settings for local development.
            DEBUG = False
            SECRET_KEY = "<INSERT_RANDOM_STRING_HERE>"  # expect: FD501 (warning)
            SECURITY_PASSWORD_SALT = "<INSERT_RANDOM_STRING_HERE>"  # expect: FD501 (warning)
            MAIL_SERVER = "smtp.example.com"
            MAIL_PASSWORD = "password"  # expect: FD501 (warning)
            """,
    },
    # noisy FD501: the shipped settings' SMTP login is a placeholder for a server at
    # example.com, and SMTP is off.
    "real-placeholder-smtp-login": {
        "env-config/config.py": """
            EMAILS_USE_SMTP = False
            MAIL_SERVER = "smtp.example.com"
            MAIL_USERNAME = "username"
            MAIL_PASSWORD = "password"  # expect: FD501
            """,
    },
    # false FD701: app.logger is read first on purpose, and the dictConfig that follows keeps
    # existing loggers (disable_existing_loggers False) and configures the app's by name.
    "real-logging-keeps-existing-loggers": {
        "shop/__init__.py": """
            from logging.config import dictConfig

            from flask import Flask

            app = Flask(__name__)
            app.config.from_envvar("SHOP_SETTINGS")


            def setup_logging():
                if not app.debug and app.config.get("LOG_CFG"):
                    _ = app.logger
                    dictConfig(app.config.get("LOG_CFG"))
            """,
        "env-config/config.py": """
            LOG_CFG = {
                "version": 1,
                "disable_existing_loggers": False,
                "handlers": {"console": {"class": "logging.StreamHandler"}},
                "loggers": {"shop": {"handlers": ["console"], "level": "INFO"}},
            }
            """,
    },
    # true FD802 (missed): the command that serves the API builds gunicorn with 12 workers
    # unless given -w, and the container's start script gives none.
    "real-custom-gunicorn-application-workers": {
        "manage.py": """
            from gunicorn.app.base import Application

            from shop import app


            class APIServer:
                def __init__(self, address="0.0.0.0:5000", workers=12):
                    self.address, self.workers = address, workers

                def __call__(self, workers=None):
                    options = {"bind": self.address, "workers": workers or self.workers}

                    class FlaskApplication(Application):
                        def init(self, parser, opts, args):
                            return options

                        def load(self):
                            return app

                    FlaskApplication().run()
            """,
        "docker/api-start.sh": """
            #!/bin/bash
            cd /srv/shop
            shop run_api_server -b 0.0.0.0:5000
            """,
        "Dockerfile": """
            FROM python:3.12-slim
            CMD ["/srv/shop/docker/api-start.sh"]
            """,
        "shop/__init__.py": """
            from flask import Flask

            app = Flask(__name__)
            """,
    },
    # true FD501: a metadata source ships the project's key for a third-party API in a class
    # constant: every install uses it, and rotating it needs a release.
    "real-shipped-third-party-api-key": {
        "shop/sources/books.py": """
            class BookSource:
                NAME = "books"
                API_KEY = "0f3a9c21d87b4e65a0c3f1d29b8e7a4c65d0e1f2"  # expect: FD501
                SEARCH_URL = f"https://books.example.org/api/search?api_key={API_KEY}&q="
            """,
    },
    # false FD501: constants that name the ways a user logged in, one of them "password".
    "real-login-mechanism-names": {
        "shop/auth.py": """
            class LoginMechanism:
                PASSWORD = "password"  # expect: FD501
                REMEMBER_ME = "remember_me"
                APIKEY = "apikey"
            """,
    },
    # false FD502: a "debug" flag in the description of a system command the UI shows, not
    # Flask's debug.
    "real-command-spec-debug-key": {
        "shop/commands.py": """
            def command_specs(commands):
                specs = {}
                for action, spec in commands.items():
                    spec.update({"action": action, "async": True, "debug": True})
                    specs[action] = spec
                return specs
            """,
    },
    # noisy FD301: a view caches a directory listing in module globals, set whole under a lock
    # and refreshed when the directory changes; the server is one process by design.
    "real-view-global-cache-under-lock": {
        "shop/files.py": """
            import threading

            from flask import Blueprint, jsonify

            bp = Blueprint("files", __name__)
            _lock = threading.Lock()
            _listing = None
            _listing_mtime = None


            def scan():
                return []


            def last_modified():
                return 0


            @bp.route("/files")
            def files():
                global _listing, _listing_mtime
                with _lock:
                    mtime = last_modified()
                    if _listing_mtime != mtime:
                        _listing = scan()  # expect: FD301 (warning)
                        _listing_mtime = mtime  # expect: FD301 (warning)
                return jsonify(_listing)
            """,
    },
}

"""Doctor's snippets: rules (see tests/doctor_corpus/__init__.py)."""

SNIPPETS: dict[str, dict[str, str]] = {
    # FD501, FD502: secrets and debug
    # Names where the secret's word is followed by others say something about a secret.
    "secret-email-subject-template": {
        "shop/config.py": """
            MAIL_PASSWORD_RESET_SUBJECT = "Reset your password"
            PASSWORD_CHANGED_TEMPLATE = "security/email/change_notice"
            SECURITY_EMAIL_SUBJECT_PASSWORD_RESET = "Password reset instructions"
            # The name ends in the word, but the value is prose or a template, not a secret.
            FORGOT_PASSWORD = "Forgot your password?"
            RESET_PASSWORD = "Hello {name}, reset it here: {url}"
            CONFIRM_PASSWORD = "confirm_password.html"
            # Named for what it says about a password: the word ends no name here.
            PASSWORD_RESET_ENDPOINT = "security.reset"
        """,
    },
    "secret-token-prefix": {
        "shop/tokens.py": """
            TOKEN_PREFIX_USER = "usr_"
            API_TOKEN_PREFIX = "pat-"
            JWT_TOKEN_LOCATION = "headers"

            class Prefixes:
                SERVICE_TOKEN = "svc_"
        """,
    },
    "secret-hash-algorithm-name": {
        "shop/settings.py": """
            SECURITY_PASSWORD_HASH = "pbkdf2_sha512"
            SECURITY_PASSWORD_SINGLE_HASH = "plaintext"
            JWT_ALGORITHM = "HS256"
            TOKEN_TYPE = "Bearer"
            # Which scheme, not which key: the value says so whatever the name.
            SECURITY_PASSWORD = "bcrypt"
            app_config = {"JWT_SECRET": "RS256", "LEGACY_PASSWORD": "sha256_crypt"}
        """,
    },
    "secret-where-it-comes-from": {
        "shop/settings.py": """
            import os

            SECRET_KEY_FILE = "/run/secrets/flask_key"
            DB_PASSWORD = "/run/secrets/db_password"
            API_TOKEN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:api"
            STRIPE_API_KEY = "vault://payments/stripe#api_key"
            COMPOSE_ENV = {"POSTGRES_PASSWORD": "${POSTGRES_PASSWORD}", "REDIS_TOKEN": "$TOKEN"}
            CLIENT_SECRET = os.environ.get("CLIENT_SECRET", "OIDC_CLIENT_SECRET")
        """,
    },
    "secret-switches-and-masks": {
        "shop/settings.py": """
            import os

            REQUIRE_API_KEY = os.environ.get("REQUIRE_API_KEY", "0")
            SHOWN_PASSWORD = "********"
            CSRF_TOKEN = "csrf_token"
        """,
    },
    "secret-test-container-password": {
        "testing/containers.py": """
            from testcontainers.postgres import PostgresContainer

            POSTGRES_PASSWORD = "postgres"
            ADMIN_PASSWORD = "changeme"  # expect: FD501 (warning)


            def database():
                return PostgresContainer("postgres:16", password=POSTGRES_PASSWORD)
        """,
        "tests_support/db.py": """
            import docker

            DB_PASSWORD = "pg-test"


            def start():
                environment = {"POSTGRES_PASSWORD": DB_PASSWORD}
                return docker.from_env().containers.run("postgres:16", environment=environment)
        """,
        "shop/devdb.py": """
            import docker


            def start():
                client = docker.from_env()
                return client.containers.run(
                    "postgres:16", environment={"POSTGRES_PASSWORD": "postgres"}
                )
        """,
        "scripts/local_db.py": """
            from testcontainers.postgres import PostgresContainer

            POSTGRES_PASSWORD = "postgres"


            def start():
                return PostgresContainer("postgres:16", password=POSTGRES_PASSWORD).start()
        """,
        "shop/fixtures/users.py": """
            ADMIN_PASSWORD = "made-up-for-the-demo-data"
        """,
    },
    # The secret's word ends the name: each of these holds one.
    "secret-word-ends-the-name": {
        "shop/config.py": """
            from flask import Flask

            DB_PASSWORD = "hunter2-but-longer"  # expect: FD501
            JWT_SECRET = "a-jwt-signing-secret"  # expect: FD501
            STRIPE_API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"  # expect: FD501
            CLIENT_SECRET = "oidc-client-secret-value"  # expect: FD501
            AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # expect: FD501
            SECURITY_PASSWORD_SALT = "salt-for-password-hashes"  # expect: FD501
            app = Flask(__name__)
            app.secret_key = "secret key"  # expect: FD501
        """,
    },
    "secret-digits-only": {
        "shop/config.py": """
            import os

            SECRET_KEY = "123456"  # expect: FD501
            ADMIN_PIN = os.environ.get("ADMIN_PASSWORD", "20240101")  # expect: FD501 (warning)
        """,
    },
    "secret-short-key": {
        "shop/config.py": """
            from flask import Flask

            SECRET_KEY = "abc"  # expect: FD501
            app = Flask(__name__)
            app.secret_key = "k"  # expect: FD501
            app.config.update(API_TOKEN="zzzzzzzzzzzz")  # expect: FD501
        """,
    },
    # A config class for tests or local development, chosen by environment, is no production's.
    "debug-testing-config": {
        "shop/config.py": """
            class Config:
                TESTING = False


            class TestingConfig(Config):
                DEBUG = True
                TESTING = True


            class TestConfig(Config):
                DEBUG = True


            class DevelopmentConfig(Config):
                DEBUG = True


            class DevConfig(Config):
                DEBUG = True


            class LocalConfig(Config):
                DEBUG = True


            CONFIGS = {"testing": TestingConfig, "development": DevelopmentConfig}
        """,
    },
    "debug-production-config": {
        "shop/config.py": """
            class BaseConfig:
                DEBUG = True  # expect: FD502


            class Config(BaseConfig):
                DEBUG = True  # expect: FD502


            class ProductionConfig(Config):
                DEBUG = True  # expect: FD502


            class ContestConfig(Config):
                DEBUG = True  # expect: FD502
        """,
    },
    # python app.py is how many serve on a server (a Dockerfile's CMD): the debugger with it.
    "debug-run-under-main-guard": {
        "app.py": """
            from flask import Flask

            app = Flask(__name__)

            if __name__ == "__main__":
                app.run(debug=True)  # expect: FD502 (warning)
        """,
    },
    # FD701, FD201, FD304: logging, binding, caches
    "logging-after-app-logger-used": {
        "shop/__init__.py": """
            import logging
            from flask import Flask

            def create_app():
                app = Flask(__name__)
                app.logger.info("creating the app")
                logging.basicConfig(level=logging.INFO)  # expect: FD701
                return app
        """,
        "shop/logs.py": """
            import logging
            import logging.config
            from flask import Flask

            from flask.logging import default_handler

            def init_logging(flask_app: Flask, config):
                flask_app.logger.addHandler(logging.StreamHandler())
                logging.config.dictConfig(config)

            def replace_flasks_handler(app):
                app.logger.removeHandler(default_handler)
                logging.config.dictConfig({"version": 1})  # expect: FD701
        """,
    },
    "logging-after-bare-flask-is-fine": {
        "shop/__init__.py": """
            import logging
            import logging.config
            from flask import Flask
            from flask.logging import default_handler

            def create_app():
                app = Flask(__name__)
                logging.basicConfig(level=logging.INFO)
                app.logger.info("logging configured")
                return app

            def configure_logging(app, config):
                logging.config.dictConfig(config)

            def without_flasks_handler(app):
                app.logger.removeHandler(default_handler)
                logging.basicConfig(level=logging.INFO)

            def keeping_the_app_logger(app):
                app.logger.removeHandler(default_handler)
                logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
        """,
    },
    "bind-init-app-on-factory-app-in-script": {
        "manage.py": """
            from flask_migrate import Migrate

            from shop import create_app
            from shop.extensions import db

            app = create_app()
            db.init_app(app)
            migrate = Migrate(app, db)
        """,
    },
    "bind-init-app-on-module-app": {
        "shop/app.py": """
            from flask import Flask
            from flask_migrate import Migrate
            from flask_sqlalchemy import SQLAlchemy

            db = SQLAlchemy()
            app = Flask(__name__)
            db.init_app(app)  # expect: FD201 (warning)
            migrate = Migrate(app, db)  # expect: FD201 (warning)
        """,
    },
    "cache-unbounded-by-request-arg": {
        "shop/prices.py": """
            import functools

            from flask import Blueprint, request

            bp = Blueprint("prices", __name__)
            RATES = {"EUR": 1.0, "USD": 1.1}

            @functools.lru_cache(None)  # expect: FD304
            def convert(amount, currency):
                return amount * RATES.get(currency, 1.0)

            @bp.get("/price")
            def price():
                currency = request.args.get("currency", "EUR")
                return {"price": convert(100, currency)}

            @bp.get("/rate/<currency>")
            @functools.cache  # expect: FD304
            def rate(currency):
                return {"rate": RATES.get(currency, 1.0)}
        """,
    },
    "cache-dict-filled-by-view": {
        "shop/names.py": """
            from flask import Blueprint, request

            bp = Blueprint("names", __name__)
            LABELS = {}
            RECENT = {}

            @bp.get("/label/<int:item_id>")
            def label(item_id):
                LABELS[item_id] = f"item {item_id}"  # expect: FD304
                RECENT[request.remote_addr] = item_id  # expect: FD301
                if len(RECENT) > 100:
                    RECENT.pop(next(iter(RECENT)))  # expect: FD301
                return LABELS[item_id]
        """,
    },
    "cache-bounded-is-fine": {
        "shop/search.py": """
            import functools
            from functools import cache, lru_cache

            from flask import Blueprint, request

            bp = Blueprint("search", __name__)

            @lru_cache
            def normalise(text):
                return text.casefold()

            @lru_cache()
            def tokens(text):
                return text.split()

            @functools.lru_cache(maxsize=256)
            def stem(word):
                return word.rstrip("s")

            @cache
            def heading(kind):
                return kind.title()

            @bp.get("/search")
            def search():
                query = request.args["q"]
                words = [stem(word) for word in tokens(normalise(query))]
                return {"title": heading("results"), "words": words}
        """,
    },
    "cache-no-arguments-is-fine": {
        "shop/settings.py": """
            import functools
            import os

            from flask import Blueprint, request

            bp = Blueprint("settings", __name__)

            @functools.cache
            def feature_flags():
                return frozenset(os.environ.get("FLAGS", "").split(","))

            @bp.get("/flags/<name>")
            def flag(name):
                return {"on": name in feature_flags(), "from": request.remote_addr}

            @bp.get("/version")
            @functools.cache
            def version():
                return {"version": os.environ.get("VERSION", "dev")}
        """,
    },
    "cache-called-from-method-view": {
        "shop/profiles.py": """
            from functools import cache

            from flask.views import MethodView

            @cache  # expect: FD304
            def profile(user_id):
                return {"id": user_id}

            class ProfileAPI(MethodView):
                def get(self, user_id):
                    return profile(user_id)
        """,
    },
    # A test's form fields and users have passwords that guard nothing; its settings do not.
    "secret-test-form-fields": {
        "tests/test_login.py": """
            SECRET_KEY = "dev"  # expect: FD501 (warning)
            ADMIN = {"username": "admin", "password": "password"}

            def test_login(client):
                form = {"username": "ada", "password": "password", "password_2": "12345678"}
                client.post("/login", data=form)
                client.post("/login", data=dict(password="changeme"))
        """,
    },
    # A registry changed holding a lock is the rule's own fix for threads; that each worker
    # has its own copy stays true: a warning. Without the lock, an error.
    "state-changed-under-a-lock": {
        "shop/editor.py": """
            import threading
            from flask import Blueprint

            bp = Blueprint("editor", __name__)
            COMPLETERS = {}
            OPEN = []
            completers_lock = threading.Lock()

            @bp.post("/complete/<int:tid>")
            def complete(tid):
                with completers_lock:
                    COMPLETERS[tid] = object()  # expect: FD301 (warning)
                OPEN.append(tid)  # expect: FD301
                return "ok"

            @bp.delete("/complete/<int:tid>")
            def close(tid):
                with completers_lock:
                    COMPLETERS.pop(tid, None)  # expect: FD301 (warning)
                return "ok"
        """,
    },
}

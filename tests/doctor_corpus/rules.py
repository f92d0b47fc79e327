"""Doctor's snippets: rules (see tests/doctor_corpus/__init__.py)."""

SNIPPETS: dict[str, dict[str, str]] = {
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
                logging.config.dictConfig(config)  # expect: FD701

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
            db.init_app(app)  # expect: FD201
            migrate = Migrate(app, db)  # expect: FD201
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
}

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
            ADMIN_PASSWORD = "changeme"  # expect: FD501


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
            ADMIN_PASSWORD = os.environ.get("ADMIN_PASSWORD", "20240101")  # expect: FD501
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
                app.run(debug=True)  # expect: FD502
        """,
    },
}

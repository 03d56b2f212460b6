"""Configuration for the orders API (Flask 3.1+).

Loaded with app.config.from_object("config.ProductionConfig").
"""

import os


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "change-me")
    # Flask 3.1: validate request.host against these values (400 otherwise).
    TRUSTED_HOSTS = [
        "api.example.com",
        ".internal.example.com",  # any subdomain, and internal.example.com itself
        "orders.example.com:8443",  # werkzeug ignores the port
    ]


class ProductionConfig(Config):
    SERVER_NAME = "api.example.com"
    PREFERRED_URL_SCHEME = "https"


class DevelopmentConfig(Config):
    TRUSTED_HOSTS = ["localhost", "127.0.0.1", os.environ.get("DEV_HOST", "dev.local")]


def create_app(config="config.ProductionConfig"):
    from flask import Flask

    app = Flask(__name__)
    app.config.from_object(config)
    app.config.update(TRUSTED_HOSTS=app.config["TRUSTED_HOSTS"] + ["healthz.example.com"])
    return app

"""Minimal Django settings for running the classifier's commands without the project.

Used only when Django is not configured already (``-p no:django``); with pytest-django the
project's settings are used and ``CLASSIFIER_MODEL_DIR`` is overridden per test.
"""

SECRET_KEY = "classifier-command-tests"
INSTALLED_APPS = ["classifier"]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
CLASSIFIER_MODEL_DIR = "/nonexistent"
CLASSIFIER_TRAINING_ROWS = None

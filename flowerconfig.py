"""Flower's settings (Flower reads ./flowerconfig.py): authentication is on by default.

The login comes from FLOWER_USER / FLOWER_PASSWORD; in development a password is generated once
under BOBBIN_HOME and printed by `make run`.
"""

from core.settings import get_settings

_user, _password = get_settings().flower_login()
basic_auth = [f"{_user}:{_password}"]
port = get_settings().flower_port

"""The standalone server's environment for trusting a host: mapped into PARLEY, and a
bad combination refused before the process serves anything.

Each case imports server.settings in a fresh interpreter with the variables set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hosttokens import AUDIENCE, ISSUER, SECRET, HostKeys, pem_public

ROOT = Path(__file__).resolve().parent.parent
PRINT = (
    "import json, server.settings as s; "
    "print(json.dumps({'trusted': s.PARLEY.get('TRUSTED_JWT'), 'api_key': s.PARLEY.get('API_KEY'), "
    "'display_name': s.PARLEY['DISPLAY_NAME'], 'auth': s.REST_FRAMEWORK['DEFAULT_AUTHENTICATION_CLASSES']}))"
)
API_KEY = "a" * 40


def settings_with(**variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env.update(variables)
    env.setdefault("SECRET_KEY", "s" * 50)
    return subprocess.run(
        [sys.executable, "-c", PRINT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def loaded(**variables: str) -> dict[str, object]:
    result = settings_with(**variables)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_nothing_set_leaves_both_features_off():
    values = loaded()
    assert values["trusted"] is None and not values["api_key"]
    assert values["display_name"] == "parley.users.username_of"  # the fast path stays
    assert values["auth"][0] == "parley.api.trusted.TrustedJWTAuthentication"  # inert until configured


def test_the_variables_map_into_parley():
    keys = HostKeys.generate()
    values = loaded(
        PARLEY_JWT_PUBLIC_KEY=pem_public(keys.ec_private).replace("\n", "\\n"),
        PARLEY_JWT_ISSUER=ISSUER,
        PARLEY_JWT_AUDIENCE=AUDIENCE,
        PARLEY_JWT_LEEWAY_SECONDS="5",
        PARLEY_API_KEY=API_KEY,
    )
    trusted = values["trusted"]
    assert isinstance(trusted, dict)
    assert trusted["KEY"].startswith("-----BEGIN PUBLIC KEY-----\n")  # escapes turned into newlines
    assert (trusted["ISSUER"], trusted["AUDIENCE"], trusted["LEEWAY_SECONDS"]) == (ISSUER, AUDIENCE, 5.0)
    assert values["api_key"] == API_KEY
    assert values["display_name"] == "parley.identities.display_name"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"PARLEY_JWT_SECRET": SECRET, "PARLEY_JWT_PUBLIC_KEY": "x"}, "not both"),
        ({"PARLEY_JWT_SECRET": SECRET, "PARLEY_JWT_ISSUER": ISSUER}, "PARLEY_JWT_AUDIENCE"),
        ({"PARLEY_JWT_ISSUER": ISSUER, "PARLEY_JWT_AUDIENCE": AUDIENCE}, "need PARLEY_JWT_SECRET"),
        ({"PARLEY_JWT_SECRET": "short", "PARLEY_JWT_ISSUER": ISSUER, "PARLEY_JWT_AUDIENCE": AUDIENCE}, "32 bytes"),
        (
            {"PARLEY_JWT_SECRET": "s" * 50, "PARLEY_JWT_ISSUER": ISSUER, "PARLEY_JWT_AUDIENCE": AUDIENCE},
            "differ from SECRET_KEY",
        ),
        (
            {
                "PARLEY_JWT_SECRET": SECRET,
                "PARLEY_JWT_ALGORITHM": "RS256",
                "PARLEY_JWT_ISSUER": ISSUER,
                "PARLEY_JWT_AUDIENCE": AUDIENCE,
            },
            "HS256",
        ),
        ({"PARLEY_API_KEY": "too-short"}, "PARLEY_API_KEY"),
        ({"PARLEY_API_KEY": "a" * 30 + " with a space"}, "PARLEY_API_KEY"),
    ],
    ids=["both keys", "no audience", "no key", "short secret", "own secret", "wrong algorithm", "short key", "space"],
)
def test_a_bad_environment_stops_the_process(variables, message):
    result = settings_with(**variables)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr, result.stderr[-1500:]

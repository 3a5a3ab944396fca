"""Customer tokens: HS256 only, `sub` = customer id, expiry required and checked."""

import base64
import json
import stat
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest

from common.config import ConfigError, load_settings, local_token_secret
from common.errors import Unauthorized
from common.shop.auth import customer_id_from_token, issue_token

SECRET = "mobile-test-secret-" + "0123456789abcdef" * 3  # long enough for HS512 too
SETTINGS = load_settings(mobile_token_secret=SECRET)


def _signed(claims: dict, key: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def _unsigned(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_an_issued_token_names_its_customer_expires_and_is_hs256():
    token = issue_token(42, SETTINGS, ttl_seconds=600)
    assert customer_id_from_token(token, SETTINGS) == 42
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["sub"] == "42"
    assert 590 <= claims["exp"] - claims["iat"] <= 600


def test_tokens_are_signed_with_the_configured_secret():
    token = issue_token(7, SETTINGS)
    other = load_settings(mobile_token_secret="another-secret-0123456789abcdef-xyz")
    with pytest.raises(Unauthorized):
        customer_id_from_token(token, other)


def test_without_a_configured_secret_one_local_secret_serves_the_whole_process():
    local = load_settings()
    assert local.mobile_token_secret is None
    token = issue_token(3, local)
    assert customer_id_from_token(token, load_settings()) == 3
    with pytest.raises(Unauthorized):
        customer_id_from_token(token, SETTINGS)
    with pytest.raises(Unauthorized):
        customer_id_from_token(issue_token(3, SETTINGS), local)


def test_an_expired_token_is_refused():
    token = _signed({"sub": "1", "iat": int(time.time()) - 120, "exp": int(time.time()) - 60})
    with pytest.raises(Unauthorized, match="expired"):
        customer_id_from_token(token, SETTINGS)


@pytest.mark.parametrize(
    "token",
    [
        _signed({"sub": "1", "exp": int(time.time()) + 600}, key="wrong-secret-0123456789abcdef-xyz"),
        _unsigned({"sub": "1", "exp": int(time.time()) + 600}),
        _signed({"exp": int(time.time()) + 600}),  # no subject
        _signed({"sub": "1"}),  # no expiry
        _signed({"sub": 1, "exp": int(time.time()) + 600}),  # a number, not a string
        _signed({"sub": "abc", "exp": int(time.time()) + 600}),
        _signed({"sub": "0", "exp": int(time.time()) + 600}),
        _signed({"sub": "-5", "exp": int(time.time()) + 600}),
        _signed({"sub": str(2**63), "exp": int(time.time()) + 600}),  # beyond any id
        _signed({"sub": "1", "exp": int(time.time()) + 600}, algorithm="HS512"),
        "not-a-token",
        "",
    ],
    ids=[
        "wrong-signature",
        "alg-none",
        "no-sub",
        "no-exp",
        "numeric-sub",
        "text-sub",
        "zero-sub",
        "negative-sub",
        "huge-sub",
        "hs512",
        "garbage",
        "empty",
    ],  # fmt: skip
)
def test_bad_tokens_are_unauthorized(token):
    with pytest.raises(Unauthorized):
        customer_id_from_token(token, SETTINGS)


def test_the_local_secret_is_kept_in_a_private_file_and_reused(tmp_path):
    path = tmp_path / "var" / "mobile_token_secret"
    first = local_token_secret(path)
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_token_secret(path) == first  # a restarted runner signs with the same secret
    assert [entry.name for entry in path.parent.iterdir()] == ["mobile_token_secret"]  # no temporary left


def test_processes_starting_together_agree_on_one_local_secret(tmp_path):
    path = tmp_path / "mobile_token_secret"
    with ThreadPoolExecutor(max_workers=8) as pool:
        secrets = set(pool.map(lambda _: local_token_secret(path), range(32)))
    assert secrets == {path.read_text().strip()}


def test_a_secret_that_cannot_be_kept_is_a_configuration_error(tmp_path):
    not_a_folder = tmp_path / "var"
    not_a_folder.write_text("a file where the folder should be")  # fails for root too, unlike permissions
    with pytest.raises(ConfigError, match="MOBILE_TOKEN_SECRET"):
        local_token_secret(not_a_folder / "mobile_token_secret")


@pytest.mark.parametrize(
    "issued_offset, lifetime",
    [
        (0, 31 * 24 * 3600),  # a month and a day, written honestly
        (0, 31 * 365 * 24 * 3600),  # decades
        (400 * 24 * 3600, 24 * 3600),  # a short lifetime that starts a year from now
    ],
)
def test_a_token_living_over_30_days_is_refused(issued_offset, lifetime):
    issued = int(time.time()) + issued_offset
    token = _signed({"sub": "1", "iat": issued, "exp": issued + lifetime})
    with pytest.raises(Unauthorized):
        customer_id_from_token(token, SETTINGS)


def test_a_token_without_an_issue_time_is_refused():
    with pytest.raises(Unauthorized):
        customer_id_from_token(_signed({"sub": "1", "exp": int(time.time()) + 600}), SETTINGS)


def test_a_30_day_token_is_accepted():
    now = int(time.time())
    assert customer_id_from_token(_signed({"sub": "5", "iat": now, "exp": now + 30 * 24 * 3600}), SETTINGS) == 5

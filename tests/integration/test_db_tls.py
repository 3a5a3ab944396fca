"""TLS to PostgreSQL from DATABASE_URL's sslmode and sslrootcert, against a throwaway cluster that
serves a certificate made here (its own CA, issued for 127.0.0.1), and against the suite's
server, which offers no TLS."""

from __future__ import annotations

import datetime
import ipaddress
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from common.config import ConfigError, load_settings
from common.db import tls as db_tls
from common.db.engine import create_engine_for
from common.db.errors import is_unavailable
from tests.conftest import BACKENDS
from tests.pg_cluster import ClusterUnavailable, PgCluster


def _certificate_authority(name: str):
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, _sha256())
    )
    return key, certificate


def _sha256():
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


def _server_certificate(ca_key, ca_certificate, host: str):
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .sign(ca_key, _sha256())
    )
    return key, certificate


def _pem(certificate) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory):
    """A throwaway cluster serving TLS with a certificate for 127.0.0.1 from the CA in `ca.pem`;
    `other-ca.pem` is a CA that signed nothing it serves."""
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL excluded by TSH_TEST_BACKENDS")
    try:
        cluster = PgCluster()
    except ClusterUnavailable as exc:
        pytest.skip(str(exc))
    folder = tmp_path_factory.mktemp("tls")
    ca_key, ca_certificate = _certificate_authority("tsh test CA")
    server_key, server_certificate = _server_certificate(ca_key, ca_certificate, "127.0.0.1")
    (folder / "ca.pem").write_bytes(_pem(ca_certificate))
    (folder / "other-ca.pem").write_bytes(_pem(_certificate_authority("another CA")[1]))
    (cluster.data / "server.crt").write_bytes(_pem(server_certificate))
    (cluster.data / "server.key").write_bytes(_key_pem(server_key))
    (cluster.data / "server.key").chmod(0o600)
    if cluster._as_root:
        for name in ("server.crt", "server.key"):
            shutil.chown(cluster.data / name, "postgres", "postgres")
    with open(cluster.data / "postgresql.conf", "a") as conf:
        conf.write("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n")
    cluster.start()
    try:
        yield cluster, folder
    finally:
        cluster.destroy()


def _encrypted(database_url: str, *, production: bool = False) -> bool:
    """Connect with the app's engine and ask the server whether this connection is TLS."""
    settings = load_settings(database_url=database_url, app_env="local")
    if production:
        settings = settings.model_copy(update={"app_env": "production"})
    engine = create_engine_for(settings, pool_size=1)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar()
    finally:
        engine.dispose()


@pytest.mark.slow
def test_require_and_verify_full_encrypt_and_check_what_they_say(tls_cluster):
    cluster, folder = tls_cluster
    assert _encrypted(cluster.url + "?sslmode=disable") is False
    assert _encrypted(cluster.url + "?sslmode=require") is True
    assert _encrypted(cluster.url + f"?sslmode=verify-full&sslrootcert={folder / 'ca.pem'}") is True
    assert _encrypted(cluster.url + f"?sslmode=verify-ca&sslrootcert={folder / 'ca.pem'}") is True
    # Production without sslmode verifies in full: with the right CA it connects encrypted.
    assert _encrypted(cluster.url + f"?sslrootcert={folder / 'ca.pem'}", production=True) is True


@pytest.mark.slow
def test_verify_full_refuses_a_certificate_its_ca_did_not_sign(tls_cluster):
    cluster, folder = tls_cluster
    for url in (
        cluster.url + f"?sslmode=verify-full&sslrootcert={folder / 'other-ca.pem'}",
        cluster.url + "?sslmode=verify-full",  # certifi's public CAs did not sign it either
        cluster.url.replace("@127.0.0.1:", "@localhost:") + f"?sslmode=verify-full&sslrootcert={folder / 'ca.pem'}",
    ):
        with pytest.raises(Exception) as raised:
            _encrypted(url)
        assert "CERTIFICATE_VERIFY_FAILED" in str(raised.value) or "match" in str(raised.value), url


def test_require_fails_clearly_when_the_server_offers_no_tls(pg):
    """The suite's server has TLS off: `require` must not quietly fall back to plain text."""
    with pytest.raises(Exception) as raised:
        _encrypted(pg.url + "?sslmode=require")
    assert is_unavailable(raised.value)
    assert "SSL" in str(raised.value)
    assert _encrypted(pg.url + "?sslmode=disable") is False


def test_a_local_run_without_sslmode_does_not_use_tls(pg):
    assert _encrypted(pg.url) is False


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sslmode=prefer", "sslmode must be one of disable, require, verify-ca, verify-full, not 'prefer'"),
        ("sslmode=disable&sslrootcert=/etc/hosts", "sslrootcert needs an sslmode other than disable"),
        ("sslmode=verify-full&sslrootcert=/nonexistent.pem", "sslrootcert /nonexistent.pem is not a readable PEM"),
    ],
)
def test_a_tls_setting_that_cannot_be_honoured_is_a_configuration_error(query, message):
    from sqlalchemy.engine import make_url

    with pytest.raises(ConfigError, match=message):
        db_tls.split_tls(make_url(f"postgresql+pg8000://u@db.internal/tsh?{query}"), production=True)


def test_the_tls_parameters_leave_the_url_and_production_defaults_to_verify_full():
    from sqlalchemy.engine import make_url

    url, context, line = db_tls.split_tls(
        make_url("postgresql+pg8000://u@db.internal/tsh?sslrootcert=/etc/ssl/certs/ca-certificates.crt&x=1"),
        production=True,
    )
    assert dict(url.query) == {"x": "1"}
    assert context.check_hostname and context.verify_mode.name == "CERT_REQUIRED"
    assert line == (
        "PostgreSQL at db.internal: TLS, certificate and host name verified against "
        "/etc/ssl/certs/ca-certificates.crt (sslmode=verify-full)"
    )
    assert Path(db_tls.default_ca_bundle()).is_file()


def test_production_says_at_start_how_it_talks_to_the_database(caplog):
    from common.logs import LOGGER_NAME

    caplog.set_level("INFO", logger=LOGGER_NAME)
    settings = load_settings(database_url="postgresql://u@db.internal/tsh?sslmode=require")
    create_engine_for(settings.model_copy(update={"app_env": "production"}), pool_size=1).dispose()
    assert "PostgreSQL at db.internal: TLS, certificate not checked (sslmode=require)" in caplog.text
    caplog.clear()
    create_engine_for(load_settings(database_url="postgresql://u@db.internal/tsh"), pool_size=1).dispose()
    assert "PostgreSQL at" not in caplog.text  # a local run without TLS, the default, says nothing

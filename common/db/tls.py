"""TLS to PostgreSQL, asked for in DATABASE_URL the way libpq's users write it.

`?sslmode=` takes `disable`, `require` (encrypted, the certificate not checked), `verify-ca`
(signed by a trusted CA) or `verify-full` (that, and issued for the host); `?sslrootcert=` names
the CA bundle to trust (a PEM file), by default certifi's (the one shipped in the Lambda
package). pg8000 takes neither parameter: both leave the URL and become its `ssl_context`.
Without `sslmode`, production verifies in full and a local run does not use TLS.

RDS Proxy presents an ACM certificate, which certifi's bundle trusts; a direct connection to
an RDS instance needs `sslrootcert=` naming Amazon's RDS bundle (docs/OPERATIONS.md).
"""

from __future__ import annotations

import ssl

from sqlalchemy.engine.url import URL

from common.config import ConfigError

MODES = ("disable", "require", "verify-ca", "verify-full")
PRODUCTION_MODE = "verify-full"
LOCAL_MODE = "disable"


class TlsSettingError(ConfigError):
    """DATABASE_URL asks for a TLS setting that cannot be honoured; the message names it."""


def default_ca_bundle() -> str:
    import certifi

    return certifi.where()


def split_tls(url: URL, *, production: bool) -> tuple[URL, ssl.SSLContext | bool, str]:
    """The URL without its TLS parameters, the pg8000 ssl_context they ask for (False: no TLS;
    pg8000 reads None as "TLS if the server offers it, unchecked"), and one line for the start-up
    log saying which it is."""
    query = dict(url.query)
    mode = query.pop("sslmode", None) or (PRODUCTION_MODE if production else LOCAL_MODE)
    root_cert = query.pop("sslrootcert", None)
    if mode not in MODES:
        raise TlsSettingError(f"DATABASE_URL: sslmode must be one of {', '.join(MODES)}, not {mode!r}")
    bare = url.set(query=query)
    if mode == "disable":
        if root_cert:
            raise TlsSettingError("DATABASE_URL: sslrootcert needs an sslmode other than disable")
        return bare, False, f"PostgreSQL at {url.host}: TLS off (sslmode=disable)"
    cafile = root_cert or default_ca_bundle()
    try:
        context = ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as exc:
        raise TlsSettingError(f"DATABASE_URL: sslrootcert {cafile} is not a readable PEM bundle ({exc})") from None
    context.check_hostname = mode == "verify-full"
    if mode == "require":
        context.verify_mode = ssl.CERT_NONE
        return bare, context, f"PostgreSQL at {url.host}: TLS, certificate not checked (sslmode=require)"
    checked = "certificate and host name" if mode == "verify-full" else "certificate"
    return bare, context, f"PostgreSQL at {url.host}: TLS, {checked} verified against {cafile} (sslmode={mode})"

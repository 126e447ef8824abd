"""Who may submit jobs: named API tokens, so every job records a person, and one leaving
revokes one line instead of everyone's token.

The tokens file (``service.tokens_file``) holds ``name: sha256:<hex>`` lines, written by
``worklog-import token add NAME``: only each token's SHA-256 is kept (the tokens are 256
random bits, so a plain hash cannot be guessed back; no slow hash is needed). The file is
looked at on every request (one ``stat``) and read again when it changed, so a revoked token
stops at once, without a restart and without touching a job that is running. A file that
cannot be read, or no longer parses, lets no named token in until it is fixed: revoking
must never be undone by a typo. The single ``WORKLOG_IMPORT_API_TOKEN`` keeps working and
submits as ``shared-token``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from importer.errors import ConfigError
from importer.log import get_logger

log = get_logger()
SHARED = "shared-token"  # who WORKLOG_IMPORT_API_TOKEN submits as
LOCAL = "local"  # who submits to a token-less loopback service
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_LINE = re.compile(r"(?P<name>[^:\s]+)\s*:\s*sha256:(?P<hash>[0-9a-f]{64})")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> str:
    if not NAME.fullmatch(name) or name in (SHARED, LOCAL):
        raise ConfigError(
            f"token name {name!r}: use letters, digits and . _ @ - (up to 64, not "
            f"{SHARED!r} or {LOCAL!r})"
        )
    return name


def read_tokens(path: Path) -> dict[str, str]:
    """``name → hash`` from a tokens file; a bad line names the file and the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"service.tokens_file {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"service.tokens_file {path}: cannot read it: {error}") from None
    tokens: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        found = _LINE.fullmatch(line)
        if found is None:
            raise ConfigError(
                f"service.tokens_file {path}, line {number}: expected 'name: sha256:<64 hex "
                "digits>' (worklog-import token add NAME writes such lines)"
            )
        name = check_name(found["name"])
        if name in tokens:
            raise ConfigError(f"service.tokens_file {path}, line {number}: {name!r} twice")
        tokens[name] = found["hash"]
    return tokens


def write_tokens(path: Path, tokens: dict[str, str]) -> None:
    """The whole file anew, readable by its owner only, renamed into place."""
    lines = ["# worklog-import serve: API tokens by person (SHA-256 only; the tokens are not kept)"]
    lines += [f"{name}: sha256:{digest}" for name, digest in tokens.items()]
    fresh = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    try:
        descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        os.replace(fresh, path)
    except OSError as error:
        fresh.unlink(missing_ok=True)
        raise ConfigError(f"service.tokens_file {path}: cannot write it: {error}") from None


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclasses.dataclass
class Submitters:
    """Tells who sent a bearer token: a named token's name, ``shared-token``, or nobody."""

    tokens_file: Path | None = None
    shared: str = ""  # WORKLOG_IMPORT_API_TOKEN
    _seen: tuple[int, int, int] | None = None
    _tokens: dict[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.tokens_file is not None:
            self._tokens = read_tokens(self.tokens_file)  # at start-up a bad file stops serve
            self._seen = self._stamp()

    @property
    def needed(self) -> bool:
        """Whether requests must carry a token (else: a loopback service, open to this machine)."""
        return bool(self.shared) or self.tokens_file is not None

    def who(self, authorization: str) -> str | None:
        """The submitter of ``Authorization: Bearer <token>``, or None (refused)."""
        if not self.needed:
            return LOCAL
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        token = token.strip()
        if self.shared and hmac.compare_digest(token.encode(), self.shared.encode()):
            return SHARED
        digest = token_hash(token)
        found = None
        for name, known in self._current().items():  # every entry compared: no early exit
            if hmac.compare_digest(digest, known):
                found = name
        return found

    def _stamp(self) -> tuple[int, int, int] | None:
        assert self.tokens_file is not None
        try:
            stat = self.tokens_file.stat()
        except OSError:
            return None
        return (stat.st_ino, stat.st_size, stat.st_mtime_ns)

    def _current(self) -> dict[str, str]:
        if self.tokens_file is None:
            return {}
        stamp = self._stamp()
        if stamp != self._seen:
            self._seen = stamp
            try:
                self._tokens = read_tokens(self.tokens_file)
                log.info("tokens_reloaded", names=sorted(self._tokens))
            except ConfigError as error:
                self._tokens = {}  # fail closed: a revocation is never undone by a bad edit
                log.error("tokens_unreadable", reason=str(error))
        return self._tokens

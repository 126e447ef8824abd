"""Named API tokens: the file of hashes, who a bearer is, revocation without a restart, and
the ``worklog-import token`` commands that write the file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import main
from importer.errors import ConfigError
from importer.service.people import (
    LOCAL,
    SHARED,
    Submitters,
    read_tokens,
    token_hash,
    write_tokens,
)


def bearer(token: str) -> str:
    return f"Bearer {token}"


def test_each_named_token_is_its_person_and_the_shared_token_is_shared(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    write_tokens(path, {"alice": token_hash("a-secret"), "bob": token_hash("b-secret")})
    people = Submitters(path, shared="s-secret")
    assert people.who(bearer("a-secret")) == "alice"
    assert people.who(bearer("b-secret")) == "bob"
    assert people.who(bearer("s-secret")) == SHARED
    assert people.who("bearer a-secret") == "alice"  # the scheme's case does not matter
    for refused in (bearer("nope"), "a-secret", "Basic a-secret", "", "Bearer "):
        assert people.who(refused) is None


def test_a_service_without_tokens_is_open_to_this_machine_only_as_local() -> None:
    people = Submitters()
    assert not people.needed and people.who("") == LOCAL


def test_a_revoked_token_is_refused_from_the_next_request_without_a_restart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tokens"
    write_tokens(path, {"alice": token_hash("a"), "bob": token_hash("b")})
    people = Submitters(path)
    assert people.who(bearer("b")) == "bob"
    write_tokens(path, {"alice": token_hash("a")})
    assert people.who(bearer("b")) is None and people.who(bearer("a")) == "alice"
    write_tokens(path, {"alice": token_hash("a"), "carol": token_hash("c")})
    assert people.who(bearer("c")) == "carol"


def test_a_tokens_file_broken_while_serving_lets_no_named_token_in_until_fixed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tokens"
    write_tokens(path, {"alice": token_hash("a"), "bob": token_hash("b")})
    people = Submitters(path, shared="s")
    path.write_text("alice: sha256:1234\n", encoding="utf-8")  # a bad edit mid-revocation
    assert people.who(bearer("a")) is None and people.who(bearer("b")) is None
    assert people.who(bearer("s")) == SHARED  # the shared token is not in the file
    path.unlink()
    assert people.who(bearer("a")) is None
    write_tokens(path, {"alice": token_hash("a")})
    assert people.who(bearer("a")) == "alice"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("alice sha256:" + "0" * 64, "line 1: expected 'name: sha256:"),
        ("# people\n\nalice: sha256:" + "0" * 63, "line 3: expected"),
        (f"alice: sha256:{'0' * 64}\nalice: sha256:{'1' * 64}", "line 2: 'alice' twice"),
        (f"shared-token: sha256:{'0' * 64}", "token name 'shared-token'"),
    ],
)
def test_a_bad_tokens_file_stops_the_service_at_start_naming_the_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "tokens"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        Submitters(path)
    with pytest.raises(ConfigError, match="no such file"):
        Submitters(tmp_path / "missing")


def test_token_add_prints_the_token_once_and_keeps_only_its_hash(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[service]\ntokens_file = "people.tokens"\n', encoding="utf-8")
    cli = CliRunner()
    added = cli.invoke(main, ["token", "add", "alice", "-c", str(config)])
    assert added.exit_code == 0, added.output
    token = added.stdout.strip()
    path = tmp_path / "people.tokens"  # relative to the config's folder
    text = path.read_text(encoding="utf-8")
    assert len(token) >= 40 and token not in text
    assert read_tokens(path) == {"alice": token_hash(token)}
    assert os.stat(path).st_mode & 0o077 == 0  # readable by its owner only
    assert Submitters(path).who(bearer(token)) == "alice"
    again = cli.invoke(main, ["token", "add", "alice", "-c", str(config)])
    assert again.exit_code == 2 and "has a token already" in again.output
    cli.invoke(main, ["token", "add", "bob", "-c", str(config)])
    listed = cli.invoke(main, ["token", "list", "-c", str(config)])
    assert listed.stdout.split() == ["alice", "bob"]
    revoked = cli.invoke(main, ["token", "revoke", "alice", "-c", str(config)])
    assert revoked.exit_code == 0 and Submitters(path).who(bearer(token)) is None
    unknown = cli.invoke(main, ["token", "revoke", "carol", "--tokens-file", str(path)])
    assert unknown.exit_code == 2 and "no token named 'carol' (there are: bob)" in unknown.output


def test_token_commands_need_to_know_the_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    cli = CliRunner()
    unset = cli.invoke(main, ["token", "add", "alice", "-c", str(config)])
    assert unset.exit_code == 2 and "service.tokens_file is not set" in unset.output
    nothing = cli.invoke(main, ["token", "list"])
    assert nothing.exit_code == 2 and "--tokens-file" in nothing.output
    bad = cli.invoke(main, ["token", "add", "a b", "--tokens-file", str(tmp_path / "t")])
    assert bad.exit_code == 2 and "token name 'a b'" in bad.output

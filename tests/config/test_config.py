from __future__ import annotations

from pathlib import Path

import pytest

from importer.config import check_base_url, load_settings, parse_settings, resolve_credentials
from importer.errors import ConfigError
from importer.read.columns import check_column_map
from tests.helpers import COLUMNS, ROOT, make_settings


def test_example_config_and_sample_config_load() -> None:
    example = load_settings(ROOT / "config.example.toml")
    assert example.delivery.rate_limit == 10.0
    sample = load_settings(ROOT / "sample_data" / "config.toml")
    assert sample.columns.issue == "Задача"


def test_unknown_key_is_named() -> None:
    with pytest.raises(ConfigError, match=r"unknown key delivery\.concurency"):
        parse_settings({"columns": COLUMNS, "delivery": {"concurency": 4}})


def test_unknown_section_is_named() -> None:
    with pytest.raises(ConfigError, match=r"unknown section \[colums\]"):
        parse_settings({"colums": COLUMNS})


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("delivery", "concurrency", "eight", r"delivery\.concurrency must be int, got 'eight'"),
        ("delivery", "concurrency", True, r"delivery\.concurrency must be int"),
        ("delivery", "rate_limit", 0, r"delivery\.rate_limit must be a number greater than 0"),
        ("input", "max_duration_hours", float("nan"), r"input\.max_duration_hours must be a"),
        ("input", "max_duration_hours", float("inf"), r"input\.max_duration_hours must be a"),
        ("input", "max_day_hours", float("nan"), r"input\.max_day_hours must be a number"),
        ("input", "max_comment_length", -5, r"input\.max_comment_length must be a number"),
        ("input", "encoding", "klingon", r"input\.encoding 'klingon' is not an encoding"),
        ("input", "delimiter", ";;", r"input\.delimiter must be one character, got ';;'"),
        ("input", "sheet", -1, r"input\.sheet must be a sheet's name or 0-based index, got -1"),
        ("input", "default_start_time", "09:00+05:00", r"input\.default_start_time must be hh:mm"),
        ("tracker", "auth", "token", r"tracker\.auth must be one of 'oauth', 'iam'"),
        ("input", "timezone", "Moscow", r"input\.timezone 'Moscow' is not an IANA timezone"),
        ("input", "default_start_time", "9am", r"input\.default_start_time must be hh:mm"),
        ("sandbox", "p_503", 1.5, r"sandbox\.p_503 must be between 0 and 1"),
        ("sandbox", "bucket_size", -1, r"sandbox\.bucket_size must be 0 or more, got -1"),
        ("sandbox", "bucket_size", 2.5, r"sandbox\.bucket_size must be int, got 2\.5"),
    ],
)
def test_wrong_values_are_named(section: str, key: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_settings(**{section: {key: value}})


def test_integers_are_accepted_where_floats_are_expected() -> None:
    assert make_settings(delivery={"rate_limit": 5}).delivery.rate_limit == 5.0


def test_required_columns_are_demanded_before_files_are_read() -> None:
    with pytest.raises(ConfigError, match=r"columns\.issue is required"):
        check_column_map(parse_settings({"columns": {"date": "D", "duration": "H"}}))
    with pytest.raises(ConfigError, match=r"columns\.date \(or columns\.start"):
        check_column_map(parse_settings({"columns": {"issue": "I", "duration": "H"}}))
    check_column_map(parse_settings({"input": {"preset": "toggl"}}))  # the preset finds them


def test_missing_and_broken_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[columns\nissue = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken)


def test_environment_supplies_token_org_and_base_url() -> None:
    settings = make_settings()
    env = {
        "TRACKER_TOKEN": "y0_secret",
        "TRACKER_CLOUD_ORG_ID": "bpf123",
        "TRACKER_BASE_URL": "http://127.0.0.1:9999/",
    }
    credentials = resolve_credentials(settings, env)
    assert credentials.base_url == "http://127.0.0.1:9999"
    assert credentials.headers() == {"Authorization": "OAuth y0_secret", "X-Cloud-Org-ID": "bpf123"}
    assert "y0_secret" not in repr(credentials)


def test_iam_tokens_use_bearer_and_the_token_variable_is_configurable() -> None:
    settings = make_settings(tracker={"auth": "iam", "token_env": "MY_IAM"})
    credentials = resolve_credentials(settings, {"MY_IAM": "t1.abc", "TRACKER_ORG_ID": "42"})
    assert credentials.headers() == {"Authorization": "Bearer t1.abc", "X-Org-ID": "42"}


def test_exactly_one_organisation_is_required() -> None:
    settings = make_settings()
    with pytest.raises(ConfigError, match="neither is set"):
        resolve_credentials(settings, {"TRACKER_TOKEN": "x"})
    with pytest.raises(ConfigError, match="both are set"):
        resolve_credentials(
            settings, {"TRACKER_TOKEN": "x", "TRACKER_ORG_ID": "1", "TRACKER_CLOUD_ORG_ID": "2"}
        )


def test_environment_org_replaces_the_configured_one() -> None:
    settings = make_settings(tracker={"org_id": "from-file"})
    credentials = resolve_credentials(settings, {"TRACKER_TOKEN": "x", "TRACKER_CLOUD_ORG_ID": "c"})
    assert credentials.headers()["X-Cloud-Org-ID"] == "c"
    assert "X-Org-ID" not in credentials.headers()


def test_missing_token_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="TRACKER_TOKEN"):
        resolve_credentials(make_settings(), {"TRACKER_ORG_ID": "1"})


@pytest.mark.parametrize("url", ["http://tracker.example.com", "ftp://x", "tracker.yandex.net"])
def test_plain_http_is_refused_except_to_loopback(url: str) -> None:
    with pytest.raises(ConfigError):
        check_base_url(url)


@pytest.mark.parametrize(
    "url", ["https://api.tracker.yandex.net", "http://127.0.0.1:8080", "http://localhost"]
)
def test_https_and_loopback_are_accepted(url: str) -> None:
    assert check_base_url(url) == url

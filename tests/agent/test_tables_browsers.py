"""chrome_extensions (every Chromium browser) and firefox_addons from profiles laid out as the browsers do."""

import base64
import hashlib
import json

from tablecheck import assert_contract, generate
from fakehost import USER
from pyosquery.tables import browsers

KEY = base64.b64encode(b"a public key").decode()


def _write(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value if isinstance(value, str) else json.dumps(value))


def _home(monkeypatch, tmp_path):
    home = tmp_path / "home" / "alice"
    home.mkdir(parents=True)
    monkeypatch.setattr(browsers, "users_from_context", lambda context: [(1000, 1000, "alice", str(home))])
    return home


def test_chrome_and_opera_extensions(monkeypatch, tmp_path):
    home = _home(monkeypatch, tmp_path)
    profile = home / ".config/google-chrome/Default"
    _write(profile / "Preferences", {"profile": {"name": "Work"}})
    _write(profile / "Secure Preferences", {"extensions": {"settings": {"abcdefgh": {
        "state": 1, "from_webstore": True, "install_time": "13300000000000000"}}}})
    manifest = {"name": "__MSG_appName__", "version": "1.2", "default_locale": "en", "key": KEY,
                "permissions": ["tabs", "storage"], "author": {"email": "dev@example.com"},
                "background": {"persistent": True}, "update_url": "https://clients2.google.com/service/update2/crx"}
    _write(profile / "Extensions/abcdefgh/1.2_0/manifest.json", manifest)
    _write(profile / "Extensions/abcdefgh/1.2_0/_locales/en/messages.json", {"appname": {"message": "Tab Saver"}})
    opera = home / ".config/opera"        # Opera keeps its one profile at the root
    _write(opera / "Preferences", {})
    _write(opera / "Extensions/zzz/0.1/manifest.json", {"name": "Opera Ad Blocker", "version": "0.1"})
    rows = assert_contract("chrome_extensions", generate("chrome_extensions"))
    assert [(r["browser_type"], r["name"]) for r in rows] == [("chrome", "Tab Saver"), ("opera", "Opera Ad Blocker")]
    chrome = rows[0]
    digest = hashlib.sha256(b"a public key").hexdigest()[:32]
    assert chrome["identifier"] == "".join(chr(ord("a") + int(d, 16)) for d in digest)
    assert (chrome["referenced_identifier"], chrome["referenced"], chrome["state"], chrome["from_webstore"]) == (
        "abcdefgh", 1, "1", "true")
    assert chrome["install_timestamp"] == 13300000000 - 11644473600
    assert (chrome["profile"], chrome["uid"], chrome["version"], chrome["persistent"]) == ("Work", 1000, "1.2", 1)
    assert chrome["permissions"] == "tabs, storage" and json.loads(chrome["permissions_json"]) == ["tabs", "storage"]
    assert chrome["author"] == "dev@example.com" and chrome["path"].endswith("abcdefgh/1.2_0")
    assert chrome["manifest_hash"] == hashlib.sha256(
        (tmp_path / "home/alice/.config/google-chrome/Default/Extensions/abcdefgh/1.2_0/manifest.json").read_bytes()
    ).hexdigest()
    assert (rows[1]["referenced"], rows[1]["identifier"], rows[1]["profile_path"]) == (0, "zzz", str(opera))


def test_firefox_addons(monkeypatch, tmp_path):
    home = _home(monkeypatch, tmp_path)
    _write(home / ".mozilla/firefox/x1y2.default-release/extensions.json", {"addons": [
        {"id": "uBlock0@raymondhill.net", "type": "extension", "version": "1.55.0", "active": True, "visible": True,
         "appDisabled": False, "applyBackgroundUpdates": 1, "location": "app-profile",
         "path": "/home/alice/.mozilla/firefox/x1y2.default-release/extensions/uBlock0@raymondhill.net.xpi",
         "sourceURI": "https://addons.mozilla.org/firefox/downloads/file/1/ublock.xpi",
         "defaultLocale": {"name": "uBlock Origin", "creator": "Raymond Hill", "description": "An efficient blocker"}}]})
    rows = assert_contract("firefox_addons", generate("firefox_addons"))
    assert rows == [{"uid": 1000, "name": "uBlock Origin", "identifier": "uBlock0@raymondhill.net",
                     "creator": "Raymond Hill", "type": "extension", "version": "1.55.0",
                     "description": "An efficient blocker",
                     "source_url": "https://addons.mozilla.org/firefox/downloads/file/1/ublock.xpi", "visible": 1,
                     "active": 1, "disabled": 0, "autoupdate": 1, "location": "app-profile",
                     "path": "/home/alice/.mozilla/firefox/x1y2.default-release/extensions/uBlock0@raymondhill.net.xpi"}]


def test_broken_profiles_are_skipped(monkeypatch, tmp_path):
    home = _home(monkeypatch, tmp_path)
    _write(home / ".config/chromium/Default/Preferences", "{not json")
    _write(home / ".config/chromium/Default/Extensions/id/1/manifest.json", "[]")
    _write(home / ".mozilla/firefox/p/extensions.json", "{\"addons\": 3}")
    assert [r["name"] for r in generate("chrome_extensions")] == [""]
    assert generate("firefox_addons") == []


def test_profiles_of_the_user_in_passwd(query, fake_host):
    fake_host.make("chrome_extensions")     # the user running the test has a Chrome and a Firefox profile
    uid = USER[1]
    rows = query("SELECT uid, name, identifier, profile FROM chrome_extensions")
    assert [(r["uid"], r["name"], r["identifier"], r["profile"]) for r in rows] == [(uid, "Tab Saver", "abcdefgh", "Work")]
    assert [(r["uid"], r["name"]) for r in query("SELECT uid, name FROM firefox_addons")] == [(uid, "uBlock Origin")]

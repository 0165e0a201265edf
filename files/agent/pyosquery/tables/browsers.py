"""chrome_extensions (every Chromium-based browser) and firefox_addons, from each user's profiles.

Chromium browsers keep one directory per profile (holding `Preferences`) with the unpacked
extensions under Extensions/<id>/<version>/manifest.json; the Preferences files say which are
installed (`extensions.settings`). Firefox lists its add-ons in <profile>/extensions.json.
Users without these browsers have no rows.
"""

import base64
import hashlib
import json
import os

from pyosquery.tables import _os
from pyosquery.tables.accounts import users_from_context

# browser_type -> profile roots under a user's home (Linux paths)
CHROMIUM_ROOTS = (
    ("chrome", ".config/google-chrome"), ("chrome_beta", ".config/google-chrome-beta"),
    ("chrome_dev", ".config/google-chrome-unstable"), ("chromium", ".config/chromium"),
    ("chromium", "snap/chromium/common/chromium"), ("opera", ".config/opera"),
    ("yandex", ".config/yandex-browser"), ("yandex", ".config/yandex-browser-beta"),
    ("brave", ".config/BraveSoftware/Brave-Browser"), ("edge", ".config/microsoft-edge"),
    ("edge_beta", ".config/microsoft-edge-beta"), ("vivaldi", ".config/vivaldi"),
)
FIREFOX_ROOTS = (".mozilla/firefox", "snap/firefox/common/.mozilla/firefox")
# Chrome stores times as microseconds since 1601-01-01
WEBKIT_TO_UNIX_SECONDS = 11644473600


def _json(path):
    text = _os.read_text(path)
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _dirs(path):
    return sorted(entry for entry in _os.list_dir(path) if os.path.isdir(os.path.join(path, entry)))


# --- chrome_extensions ----------------------------------------------------------------------

def extension_id(key):
    """Chrome's id for a manifest `key`: the SHA-256 of the public key, first 32 hex digits as a-p."""
    try:
        digest = hashlib.sha256(base64.b64decode(key)).hexdigest()[:32]
    except ValueError:
        return ""
    return "".join(chr(ord("a") + int(digit, 16)) for digit in digest)


def _localized(text, version_dir, locale):
    """Resolve a `__MSG_name__` manifest string from _locales/<locale>/messages.json."""
    if not (isinstance(text, str) and text.startswith("__MSG_") and text.endswith("__")):
        return text if isinstance(text, str) else ""
    messages = _json(os.path.join(version_dir, "_locales", locale or "en", "messages.json"))
    wanted = text[6:-2].lower()
    for name, message in messages.items():
        if name.lower() == wanted and isinstance(message, dict):
            return str(message.get("message", ""))
    return text


def _permissions(values):
    values = [v for v in (values if isinstance(values, list) else []) if isinstance(v, str)]
    return ", ".join(values), json.dumps(values)


def _install_timestamp(text):
    try:
        return max(0, int(text) // 1000000 - WEBKIT_TO_UNIX_SECONDS)
    except (TypeError, ValueError):
        return 0


def _extension_row(version_dir, directory_id, settings):
    manifest_path = os.path.join(version_dir, "manifest.json")
    raw = _os.read_bytes(manifest_path)
    manifest = _json(manifest_path)
    locale = manifest.get("default_locale", "")
    author = manifest.get("author", "")
    permissions, permissions_json = _permissions(manifest.get("permissions"))
    optional, optional_json = _permissions(manifest.get("optional_permissions"))
    setting = settings.get(directory_id) if isinstance(settings.get(directory_id), dict) else None
    background = manifest.get("background") if isinstance(manifest.get("background"), dict) else {}
    key = manifest.get("key", "") if isinstance(manifest.get("key"), str) else ""
    return {
        "name": _localized(manifest.get("name", ""), version_dir, locale),
        "referenced_identifier": directory_id if setting is not None else "",
        "identifier": extension_id(key) if key else directory_id,
        "version": str(manifest.get("version", "")),
        "description": _localized(manifest.get("description", ""), version_dir, locale),
        "default_locale": locale, "current_locale": "",
        "update_url": str(manifest.get("update_url", "")),
        "author": author.get("email", "") if isinstance(author, dict) else str(author),
        "persistent": 1 if background.get("persistent") else 0,
        "path": version_dir, "permissions": permissions, "permissions_json": permissions_json,
        "optional_permissions": optional, "optional_permissions_json": optional_json,
        "manifest_hash": hashlib.sha256(raw or b"").hexdigest(),
        "referenced": 1 if setting is not None else 0,
        "from_webstore": "" if setting is None else str(bool(setting.get("from_webstore"))).lower(),
        "state": "" if setting is None else str(setting.get("state", "")),
        "install_time": "" if setting is None else str(setting.get("install_time", "")),
        "install_timestamp": 0 if setting is None else _install_timestamp(setting.get("install_time")),
        "manifest_json": (raw or b"").decode("utf-8", "replace"), "key": key,
    }


def _chromium_profiles(root):
    """Profile directories of one browser: those holding a Preferences file (Opera's root is one)."""
    candidates = [root] + [os.path.join(root, name) for name in _dirs(root)]
    return [path for path in candidates if os.path.isfile(os.path.join(path, "Preferences"))]


def _profile_extensions(browser, uid, profile_path):
    preferences = _json(os.path.join(profile_path, "Preferences"))
    secure = _json(os.path.join(profile_path, "Secure Preferences"))
    settings = {}
    for source in (preferences, secure):
        found = (source.get("extensions") or {}).get("settings") if isinstance(source.get("extensions"), dict) else None
        settings.update(found if isinstance(found, dict) else {})
    profile = preferences.get("profile") if isinstance(preferences.get("profile"), dict) else {}
    extensions = os.path.join(profile_path, "Extensions")
    for directory_id in _dirs(extensions):
        for version in _dirs(os.path.join(extensions, directory_id)):
            version_dir = os.path.join(extensions, directory_id, version)
            if os.path.isfile(os.path.join(version_dir, "manifest.json")):
                row = _extension_row(version_dir, directory_id, settings)
                row.update(browser_type=browser, uid=uid, profile=str(profile.get("name", "")),
                           profile_path=profile_path)
                yield row


def gen_chrome_extensions(context):
    for uid, _gid, _name, home in users_from_context(context):
        if not home:
            continue
        for browser, relative in CHROMIUM_ROOTS:
            for profile_path in _chromium_profiles(os.path.join(home, relative)):
                yield from _profile_extensions(browser, uid, profile_path)


# --- firefox_addons -------------------------------------------------------------------------

def _addon_row(uid, addon):
    locale = addon.get("defaultLocale") if isinstance(addon.get("defaultLocale"), dict) else {}
    return {"uid": uid, "name": str(locale.get("name") or ""), "identifier": str(addon.get("id") or ""),
            "creator": str(locale.get("creator") or ""), "type": str(addon.get("type") or ""),
            "version": str(addon.get("version") or ""), "description": str(locale.get("description") or ""),
            "source_url": str(addon.get("sourceURI") or ""), "visible": 1 if addon.get("visible") else 0,
            "active": 1 if addon.get("active") else 0, "disabled": 1 if addon.get("appDisabled") else 0,
            "autoupdate": 1 if addon.get("applyBackgroundUpdates") else 0,
            "location": str(addon.get("location") or ""), "path": str(addon.get("path") or "")}


def gen_firefox_addons(context):
    for uid, _gid, _name, home in users_from_context(context):
        if not home:
            continue
        for relative in FIREFOX_ROOTS:
            root = os.path.join(home, relative)
            for profile in _dirs(root):
                addons = _json(os.path.join(root, profile, "extensions.json")).get("addons")
                for addon in addons if isinstance(addons, list) else []:
                    if isinstance(addon, dict):
                        yield _addon_row(uid, addon)

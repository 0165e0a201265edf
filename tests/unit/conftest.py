"""Make `ansible_collections.pyosquery.fleet` importable when pytest runs on the work tree.

ansible-test units runs from a copy under ansible_collections/pyosquery/fleet and needs nothing;
plain pytest (`make test-unit`) gets the same link the Makefile gives Ansible:
.build/collections/ansible_collections/pyosquery/fleet -> the work tree.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")

try:
    import ansible_collections.pyosquery.fleet  # noqa: F401  pylint: disable=unused-import
except ImportError:
    LINK = os.path.join(COLLECTIONS, "ansible_collections", "pyosquery", "fleet")
    if not os.path.islink(LINK):
        os.makedirs(os.path.dirname(LINK), exist_ok=True)
        os.symlink(ROOT, LINK)
    sys.path.insert(0, COLLECTIONS)

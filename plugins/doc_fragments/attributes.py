# -*- coding: utf-8 -*-
# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """Attributes the collection's modules share (pyosquery.fleet.attributes.info_module)."""

    DOCUMENTATION = r'''
options: {}
'''

    INFO_MODULE = r'''
attributes:
  check_mode:
    support: full
    description: The module only reads, so it runs in check mode as it does otherwise.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
'''

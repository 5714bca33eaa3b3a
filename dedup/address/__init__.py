"""Address keys for record linkage: canonical address text, its parts, and its official units.

By stage: `vocabulary` (unit and place types, abbreviations, the words that decide a split),
`gazetteer` (what keys need from the official lists), `keys` (free text to a canonical key),
`parts` (what a key's components are), `units` (a key resolved to official units per vintage).
"""

from dedup.address.keys import address_key, address_keys
from dedup.address.parts import (
    AddressParts,
    address_components,
    address_fold,
    address_parts,
    address_tokens,
)
from dedup.address.units import ResolvedUnits, resolve_units
from dedup.address.vocabulary import SEPARATOR

__all__ = [
    "SEPARATOR",
    "AddressParts",
    "ResolvedUnits",
    "address_components",
    "address_fold",
    "address_key",
    "address_keys",
    "address_parts",
    "address_tokens",
    "resolve_units",
]

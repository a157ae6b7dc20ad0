"""Adapters between other vocabularies and the engine's contract.

The engine speaks only the contract (`schemas/claim.schema.json`); an
adapter translates a document from another system's field names and codes
into it, and a decision back. Keeping translation outside the engine means
the policies and their tests never depend on any one platform's naming.

`nhsa` — the national 医疗保障信息平台 (field names such as `insuplc_admdvs`,
`med_type`, `hifp_pay`); see docs/nhsa-mapping.md.
"""

from . import nhsa

__all__ = ["nhsa"]

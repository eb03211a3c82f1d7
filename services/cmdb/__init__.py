"""The CMDB as the hub knows it: a library, not a service.

Every consumer of configuration items (the router's ownership rules, the change calendar)
keeps its own in-memory :class:`CiTable`, filled and kept live from the compacted topic
``schakel.cis.v1`` by a :class:`CmdbFeed` (:mod:`services.cmdb.follower`). The table answers
which CI a ticket names (:meth:`CiTable.resolve`) and whose CIs depend on it
(:meth:`CiTable.affected`). ``schakel cmdb import`` (:mod:`services.cmdb.importer`) puts a
supplier's CMDB export onto the same topic, encoded as the normaliser encodes a live CI.

>>> from services.cmdb import CiTable
>>> table = CiTable(cis)                                  # doctest: +SKIP
>>> table.resolve("kpn", incident.ci)                     # doctest: +SKIP
"""

from services.cmdb.errors import CmdbError, CmdbImportError, ImportProblem
from services.cmdb.follower import FOLLOWER_GROUP, CmdbFeed, EndOffsets, cis_end_offsets
from services.cmdb.importer import ExportFormat, ImportReport, cmdb_import, read_export
from services.cmdb.table import (
    DEPENDS_ON,
    MAX_AFFECTED,
    MAX_HOPS,
    RELATION_CLASS,
    SUPPORTS,
    Affected,
    CiTable,
)

__all__ = [
    "DEPENDS_ON",
    "FOLLOWER_GROUP",
    "MAX_AFFECTED",
    "MAX_HOPS",
    "RELATION_CLASS",
    "SUPPORTS",
    "Affected",
    "CiTable",
    "CmdbError",
    "CmdbFeed",
    "CmdbImportError",
    "EndOffsets",
    "ExportFormat",
    "ImportProblem",
    "ImportReport",
    "cis_end_offsets",
    "cmdb_import",
    "read_export",
]

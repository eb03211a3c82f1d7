"""The CMDB state: configuration items from ``schakel.cis.v1``, in memory.

The table is rebuilt at start by reading the compacted topic from the beginning, then kept
live by the same consumer (see :mod:`services.cmdb.follower`); here it is plain state, no Kafka.
Records are applied in arrival order, last one wins, exactly as compaction keeps them: the
normaliser has already dropped stale updates. A CI with ``deleted`` true (or a tombstone for
its hub id) leaves the table.

**Finding the CI of a ticket** (:meth:`CiTable.resolve`). Tickets name a CI as the supplier
names it (``Incident.ci.record_id``, else ``.name``):

1. the CI with that record id at the ticket's supplier; else the one CI with that record id
   at any supplier (record ids such as sys_ids are unique in practice);
2. else the one CI of the ticket's supplier with that name (case-insensitive); else the one
   CI with that name at any supplier;
3. otherwise nothing. An ambiguous reference (two CIs fit) resolves to nothing rather than
   to a guess, so a ticket never reaches a gemeente because of a name clash.

Relation records (``ci_class`` ``cmdb_rel_ci``, see :mod:`connectors.servicenow._cmdb`) are
kept for their relations but are never the CI of a ticket.

**Who else is affected: following relations** (:meth:`CiTable.affected`). An incident on a
CI also concerns the owners of the CIs that *depend on it*: an application that runs on the
server, depends on the database, or is hosted on the virtual machine. The rule, bounded:

* a dependency is a relation whose kind is one of :data:`DEPENDS_ON` read from the dependent's
  side ("App runs_on Server") or one of :data:`SUPPORTS` read from the provider's side
  ("Server runs App"); a ServiceNow relation record carries both views and counts once;
* only towards dependents, never the other way: an incident on an application does not
  concern the owners of the server it runs on;
* at most :data:`MAX_HOPS` (2) steps: the application on the VM on the host is reached, its
  consumers beyond that are not; a step may pass through a CI the table does not hold (yet),
  since the relations alone say who depends on whom;
* at most :data:`MAX_AFFECTED` CIs per ticket (a core switch that everything uses stops
  there, in a stable order, rather than fanning out without end).

Other relation kinds (contains, connects to, members of, sends data to, ...) are kept but not
followed: they do not say that one CI stops working when the other does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from schemas import CiRef, ConfigurationItem

__all__ = [
    "DEPENDS_ON",
    "MAX_AFFECTED",
    "MAX_HOPS",
    "RELATION_CLASS",
    "SUPPORTS",
    "Affected",
    "CiTable",
]

#: Relation kinds read "<dependent> <kind> <provider>".
DEPENDS_ON = frozenset({"depends_on", "runs_on", "hosted_on", "uses", "consumes", "virtualized_by"})
#: Relation kinds read "<provider> <kind> <dependent>" (the inverse labels).
SUPPORTS = frozenset({"used_by", "runs", "hosts", "consumed_by", "virtualizes"})
#: Dependency steps followed from the ticket's CI.
MAX_HOPS = 2
#: CIs considered per ticket, the ticket's own CI included.
MAX_AFFECTED = 200
#: ``ci_class`` of a relation record (a relation that is a record of its own).
RELATION_CLASS = "cmdb_rel_ci"

_Key = tuple[str, str]  # (supplier, record id)


@dataclass(frozen=True, slots=True)
class Affected:
    """A CI a ticket concerns: its own CI (``hops`` 0) or one that depends on it, reached
    through ``via`` (the CI one step closer to the ticket's CI)."""

    ci: ConfigurationItem
    hops: int = 0
    via: ConfigurationItem | None = None


def _key(ci: ConfigurationItem) -> _Key:
    return (ci.supplier_ref.supplier, ci.supplier_ref.record_id)


def _dependencies(ci: ConfigurationItem) -> Iterator[tuple[_Key, _Key]]:
    """``(provider, dependent)`` pairs the relations of ``ci`` state."""
    supplier = ci.supplier_ref.supplier
    relations = ci.relations
    ends: tuple[tuple[str, str, str], ...]
    if ci.ci_class == RELATION_CLASS and len(relations) == 2:
        # relations[0] is the parent's view (target: child), relations[1] the child's view
        parent, child = relations[1].target_record_id, relations[0].target_record_id
        ends = ((parent, relations[0].kind, child), (child, relations[1].kind, parent))
    else:
        own = ci.supplier_ref.record_id
        ends = tuple((own, r.kind, r.target_record_id) for r in relations)
    for source, kind, target in ends:
        if kind in DEPENDS_ON:
            yield (supplier, target), (supplier, source)
        elif kind in SUPPORTS:
            yield (supplier, source), (supplier, target)


def _add(index: dict[str, set[str]], key: str, hub: str) -> None:
    index.setdefault(key, set()).add(hub)


def _discard(index: dict[str, set[str]], key: str, hub: str) -> None:
    hubs = index.get(key)
    if hubs is not None:
        hubs.discard(hub)
        if not hubs:
            del index[key]


class CiTable:
    """Configuration items by hub id, by (supplier, record id) and by name, with the
    dependency graph of their relations."""

    __slots__ = (
        "_by_hub",
        "_by_name",
        "_by_record",
        "_by_ref",
        "_by_supplier_name",
        "_dependents",
        "_edges",
        "version",
    )

    def __init__(self, items: Iterable[ConfigurationItem] = ()) -> None:
        self._by_hub: dict[str, ConfigurationItem] = {}
        self._by_ref: dict[_Key, str] = {}
        self._by_record: dict[str, set[str]] = {}
        self._by_supplier_name: dict[tuple[str, str], set[str]] = {}
        self._by_name: dict[str, set[str]] = {}
        self._edges: dict[str, tuple[tuple[_Key, _Key], ...]] = {}
        self._dependents: dict[_Key, dict[_Key, int]] = {}
        #: Counts every change; whoever caches what the table said compares it.
        self.version = 0
        for item in items:
            self.apply(item)

    def __len__(self) -> int:
        return len(self._by_hub)

    def __contains__(self, hub_id: object) -> bool:
        return hub_id in self._by_hub

    def __iter__(self) -> Iterator[ConfigurationItem]:
        return iter(list(self._by_hub.values()))

    def get(self, hub_id: str) -> ConfigurationItem | None:
        return self._by_hub.get(hub_id)

    # --- changes -------------------------------------------------------------------------

    def apply(self, ci: ConfigurationItem) -> None:
        """Take ``ci`` as the current state of its hub id (or remove it when deleted)."""
        self.version += 1
        old = self._by_hub.pop(ci.hub_id, None)
        if old is not None:
            self._unindex(old)
        if not ci.deleted:
            self._by_hub[ci.hub_id] = ci
            self._index(ci)

    def remove(self, hub_id: str) -> None:
        """Forget the CI with this hub id (a tombstone on the compacted topic)."""
        self.version += 1
        old = self._by_hub.pop(hub_id, None)
        if old is not None:
            self._unindex(old)

    def _index(self, ci: ConfigurationItem) -> None:
        hub = ci.hub_id
        edges = tuple(_dependencies(ci))
        if edges:
            self._edges[hub] = edges
            for provider, dependent in edges:
                counts = self._dependents.setdefault(provider, {})
                counts[dependent] = counts.get(dependent, 0) + 1
        if ci.ci_class == RELATION_CLASS:
            return
        key = _key(ci)
        self._by_ref[key] = hub
        _add(self._by_record, key[1], hub)
        name = ci.name.casefold()
        self._by_supplier_name.setdefault((key[0], name), set()).add(hub)
        _add(self._by_name, name, hub)

    def _unindex(self, ci: ConfigurationItem) -> None:
        hub = ci.hub_id
        for provider, dependent in self._edges.pop(hub, ()):
            counts = self._dependents[provider]
            left = counts[dependent] - 1
            if left:
                counts[dependent] = left
            else:
                del counts[dependent]
                if not counts:
                    del self._dependents[provider]
        if ci.ci_class == RELATION_CLASS:
            return
        key = _key(ci)
        if self._by_ref.get(key) == hub:
            del self._by_ref[key]
        _discard(self._by_record, key[1], hub)
        name = ci.name.casefold()
        hubs = self._by_supplier_name.get((key[0], name))
        if hubs is not None:
            hubs.discard(hub)
            if not hubs:
                del self._by_supplier_name[(key[0], name)]
        _discard(self._by_name, name, hub)

    # --- queries -------------------------------------------------------------------------

    def resolve(self, supplier: str, ref: CiRef | None) -> ConfigurationItem | None:
        """The CI a ticket of ``supplier`` names, by the rules in the module docstring."""
        if ref is None:
            return None
        if ref.record_id:
            hub = self._by_ref.get((supplier, ref.record_id))
            if hub is None:
                hub = _only(self._by_record.get(ref.record_id))
            if hub is not None:
                return self._by_hub[hub]
        if ref.name:
            name = ref.name.casefold()
            hub = _only(self._by_supplier_name.get((supplier, name)))
            if hub is None and (supplier, name) not in self._by_supplier_name:
                hub = _only(self._by_name.get(name))
            if hub is not None:
                return self._by_hub[hub]
        return None

    def affected(self, ci: ConfigurationItem) -> tuple[Affected, ...]:
        """``ci`` and the CIs that depend on it, nearest first, bounded as documented.

        A dependency chain passes through a CI the table does not hold (yet): the relations
        still say who depends on whom.
        """
        found = [Affected(ci)]
        seen = {_key(ci)}
        frontier: list[tuple[_Key, ConfigurationItem | None]] = [(_key(ci), ci)]
        for hops in range(1, MAX_HOPS + 1):
            following: list[tuple[_Key, ConfigurationItem | None]] = []
            for key, provider in frontier:
                dependents = self._dependents.get(key)
                if not dependents:
                    continue
                for dep_key in sorted(dependents):
                    if dep_key in seen:
                        continue
                    seen.add(dep_key)
                    hub = self._by_ref.get(dep_key)
                    dependent = self._by_hub[hub] if hub is not None else None
                    following.append((dep_key, dependent))
                    if dependent is None:
                        continue
                    found.append(Affected(dependent, hops, provider))
                    if len(found) >= MAX_AFFECTED:
                        return tuple(found)
            if not following:
                break
            frontier = following
        return tuple(found)

    def knows(self, value: str) -> bool:
        """Whether a CI has ``value`` as record id, name (case-insensitive) or hub id."""
        if value in self._by_hub or value in self._by_record:
            return True
        folded = value.casefold()
        if folded in self._by_name:
            return True
        return any(record.casefold() == folded for record in self._by_record)

    @property
    def relations(self) -> int:
        """How many dependency edges the table holds (for logs)."""
        return sum(len(d) for d in self._dependents.values())


def _only(hubs: set[str] | None) -> str | None:
    if hubs is None or len(hubs) != 1:
        return None
    return next(iter(hubs))

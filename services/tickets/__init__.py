"""The tickets' shared state: a library, not a service.

What the services know of a ticket beyond its events, in the hub's store: where it lives at
the supplier and its last known state (:class:`Correlation`), which teams it was routed to
(:class:`Route`), the receivers' own references to it (:class:`ReceiverRef`), and what became
of each reply (:class:`ReplyRecord`). One module owns the tables (:mod:`.tables`) and one API
reads and writes them (:class:`CorrelationStore`); the services meet here instead of in each
other's packages:

* sync keeps the correlations and routes (from the normalised and gemeente topics) and the
  replies' outcomes;
* delivery records the receivers' references (TOPdesk incident ids, e-mail Message-IDs);
* the replies API reads all of it for the team that asks.

>>> store = CorrelationStore(url="sqlite+aiosqlite:///schakel.db")   # doctest: +SKIP
>>> await store.correlation(hub_id)                                 # doctest: +SKIP
"""

from services.tickets.store import (
    FINAL_STATES,
    Correlation,
    CorrelationStore,
    ReceiverRef,
    ReplyRecord,
    Route,
    newest,
)

__all__ = [
    "FINAL_STATES",
    "Correlation",
    "CorrelationStore",
    "ReceiverRef",
    "ReplyRecord",
    "Route",
    "newest",
]

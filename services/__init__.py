"""Schakel's services and the libraries they share.

The services (each a package with a ``service.py``, composed by :mod:`services.bootstrap`,
the one module that imports them) are listed in ``services.bootstrap.SERVICES``; the leaf
modules they meet through (:mod:`services.contract`, :mod:`services.config`,
:mod:`services.cmdb`, :mod:`services.tickets`, :mod:`services.messaging`,
:mod:`services.retrying` ...) import no service. See docs/ARCHITECTURE.md.
"""

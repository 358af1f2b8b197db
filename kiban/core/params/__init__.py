"""Parameters: the declared catalogue of legal amounts and rates (``catalogue.yaml``), each municipality's own
values where the law lets it set them, and "value of P for tenant T on date D" for the rules engine.

Use :mod:`kiban.core.params.service` (``value``, ``values_on``, ``set_municipal_value``, ``history``,
``describe``, ``catalogue``). Nothing is re-exported here, so the ``catalogue`` module and the ``catalogue()``
function never shadow each other.
"""

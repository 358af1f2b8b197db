"""Rules as code: dated, referenced quantities computed over a whole population (``engine``), and what-if
comparisons of two parameter sets (``whatif``)."""

"""Everything that knows about GitHub: the runner's environment and event payload (``runner``),
workflow commands and output files (``commands``), the REST client with its one retry policy
(``client``), the sticky PR comment (``comment``) and the commit status (``status``).

Nothing here is imported by the core, and ``ghapi`` is imported only when a client is made, so
``idm-gate --help`` and a local run never pay for it.
"""

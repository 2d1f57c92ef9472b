"""The HTTP core: credentials, the token, the pooled client, retries, responses and paging.

Plain Python over httpx. It imports only ``ue_magic.errors`` and ``ue_magic._constants`` from
the rest of the package: never the cell language, IPython or the sandbox.
"""

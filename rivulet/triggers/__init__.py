"""Lambda-style triggers: event source mappings that run user functions on stream records.

Layout (design.md, "Triggers"): config.py (mapping settings and their AWS validation),
filters.py (FilterCriteria patterns), invocation.py (what an invoker returns), invokers/ (Python
in-process or in a subprocess pool, webhooks, commands), events.py (the Lambda event and the
on-failure record), responses.py (partial batch responses), store.py (mappings, checkpoints,
leases and figures in the database), shard_worker.py (one mapping on one shard: batch, filter,
invoke, retry, bisect, checkpoint), destinations.py (on-failure sinks), runtime.py (the
supervisor that runs shard workers in lineage order under leases).
"""

"""Throughput measured against ceilings taken in the same process: a loopback server (:mod:`.loopback`)."""

"""The evidence library's version, recorded with every result it computes.

Bump the minor number when a method's numbers can change, the major when a stored
randomization sequence would no longer be reproduced from its seed.
"""

EVIDENCE_VERSION = "1.0.0"

"""Every request and response schema of the API has its own name in the OpenAPI document.

django-ninja files schemas under their class name: two different classes with one name (say a
treatment plan's ``PlanIn`` and a study's sample-size ``PlanIn``) make the document describe one
route with the other's body, and clients generated from it send the wrong fields.
"""

from __future__ import annotations

import collections

from ninja import Schema


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_no_two_different_api_schemas_share_a_name(db):
    import anagen.urls  # noqa: F401  (imports every app's API module)

    by_name = collections.defaultdict(list)
    for cls in _subclasses(Schema):
        if cls.__module__.startswith("anagen."):
            by_name[cls.__name__].append(cls)
    clashes = {name: [c.__module__ for c in classes] for name, classes in by_name.items()
               if len({repr(c.model_json_schema()) for c in classes}) > 1}
    assert not clashes, f"rename one of each: {clashes}"

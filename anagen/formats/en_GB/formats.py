"""The clinic's one way of writing dates and times (en-GB): 14/03/2026 and 14/03/2026 09:30.

Templates write ``|date:"SHORT_DATE_FORMAT"`` or ``|date:"SHORT_DATETIME_FORMAT"``; a date or
date-time shown without a filter uses the same. Python text uses ``anagen.core.dates``.
``tests/test_date_formats.py`` keeps every template to these.
"""

DATE_FORMAT = "d/m/Y"
SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "d/m/Y H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
TIME_FORMAT = "H:i"

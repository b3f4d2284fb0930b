"""Anagen: clinic software for regenerative hair restoration.

The web platform lives in the Django apps beside this file (accounts, audit, intake,
patients, screening, scheduling, ...); the image-analysis engine in ``anagen.trichoscopy``
imports nothing from Django.
"""

__version__ = "0.1.0"

"""Version of the counting method; stored with every result so counts made by
different versions are never mixed up silently. Bump it whenever detection changes."""

ENGINE_VERSION = "1.5.0"

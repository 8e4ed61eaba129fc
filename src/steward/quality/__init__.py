"""Quality: checks that block publishing bad data, their alerts, and dbt / GE interop."""

{# Each lake table Steward names in `lake_files` (catalog name -> its data files) as a view. #}
{% macro lake_views() %}
  {% for name, files in var('lake_files', {}).items() %}
    {% set parts = name.split('.') %}
    create schema if not exists {{ parts[1] }};
    create or replace view {{ parts[1] }}.{{ parts[2] }} as
      select * from read_parquet([{% for file in files %}'{{ file | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor %}]);
  {% endfor %}
{% endmacro %}

{# Models go to the schema they name (marts), not target_schema + "_" + it. #}
{% macro generate_schema_name(custom_schema_name, node) %}
  {{ custom_schema_name or target.schema }}
{% endmacro %}

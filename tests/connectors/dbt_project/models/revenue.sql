{{ config(alias='customer_revenue') }}
select customer_id, sum(amount) as revenue
from {{ ref('orders_enriched') }}
where status <> 'returned'
group by customer_id

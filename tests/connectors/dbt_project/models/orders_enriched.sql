select o.order_id, o.customer_id, c.name as customer_name, o.amount, o.status
from {{ ref('stg_orders') }} as o
join {{ source('landing', 'customers') }} as c on c.customer_id = o.customer_id

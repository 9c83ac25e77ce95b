-- The service a query is narrowed to; not given matches every row (as model-filter.sql).
(NOT {by_service:Bool} OR service = {service:String})

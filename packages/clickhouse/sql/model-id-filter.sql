-- The model a query is narrowed to; not given matches every row (see model-filter.sql).
(NOT {by_model:Bool} OR model_id = {model_id:String})

-- The model and version a query is narrowed to, over any table with model_id and model_version
-- columns. A filter that is not given matches every row; one that is given matches exactly (a
-- version of '' selects the decisions that name no version, never every version). The flags fold
-- to constants, so a filter that is not given costs nothing.
{{include:model-id-filter.sql}}
  AND (NOT {by_version:Bool} OR model_version = {model_version:String})

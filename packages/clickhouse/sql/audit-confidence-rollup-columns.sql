model_id, model_version, service, retention_class,
    quantilesTDigestStateIf(0.5, 0.9)(assumeNotNull(confidence), confidence IS NOT NULL) AS confidence_quantiles

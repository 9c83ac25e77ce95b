toStartOfHour(UUIDv7ToDateTime(toUUIDOrZero(decision_id)))

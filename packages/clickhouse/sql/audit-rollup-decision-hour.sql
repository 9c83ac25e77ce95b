toDateTime(intDiv(toUnixTimestamp(UUIDv7ToDateTime(toUUIDOrZero(decision_id))), 3600) * 3600)

-- What a decision's integrity rests on, from the stream and leaf index audit_decisions records and
-- the size of the newest checkpoint per stream that a trusted key signed ({sealed_streams} and
-- {sealed_sizes}, checked by the caller against its keys): 'unsigned' (no stream), 'untrusted' (no
-- trusted checkpoint of its stream), 'sealed' (leaf index below that size) or 'unsealed'. Leaves
-- are not recomputed here, so 'sealed' is not 'verified'.
multiIf(integrity_stream = '', 'unsigned',
    NOT has({sealed_streams:Array(String)}, integrity_stream), 'untrusted',
    integrity_seq < arrayElement({sealed_sizes:Array(UInt64)}, indexOf({sealed_streams:Array(String)}, integrity_stream)),
        'sealed',
    'unsealed')

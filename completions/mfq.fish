# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mfq_global_optspecs
    string join \n s/store= format= record-size= segment-size= json h/help V/version
end

function __fish_mfq_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mfq_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mfq_using_subcommand
    set -l cmd (__fish_mfq_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mfq -n "__fish_mfq_needs_command" -s s -l store -d 'The store folder (`-s ./store`). Default: $MFQ_STORE (an error when set but empty), else the current directory. A STORE positional wins over this' -r -F
complete -c mfq -n "__fish_mfq_needs_command" -l format -d 'Store format: `fixed` (every payload is --record-size bytes) or `stream` (length-prefixed payloads of any size). Default: read from an existing store' -r -f -a "fixed\t'Every record has the same payload size (`--record-size`)'
stream\t'Records are length-prefixed and may differ in size'"
complete -c mfq -n "__fish_mfq_needs_command" -l record-size -d 'Payload size in bytes of every record of a fixed-format store (`--record-size 64`). Default: read from an existing store' -r
complete -c mfq -n "__fish_mfq_needs_command" -l segment-size -d 'Size of each segment file, in bytes or with a suffix: `4096`, `64MiB`, `1GiB`, `1TiB` (K/KiB = 1024, KB = 1000; case-insensitive). A new store defaults to 64 MiB; an existing store\'s is read from mfq.json or inferred from its files' -r
complete -c mfq -n "__fish_mfq_needs_command" -l json -d 'Print machine-readable JSON instead of text (stat, bench and reports; for consume and tail the same as --output json, unless --output names another layout, which wins); an error is then one JSON object on standard error'
complete -c mfq -n "__fish_mfq_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfq -n "__fish_mfq_needs_command" -s V -l version -d 'Print version'
complete -c mfq -n "__fish_mfq_needs_command" -f -a "produce" -d 'Append messages to a store'
complete -c mfq -n "__fish_mfq_needs_command" -f -a "consume" -d 'Take messages from a store and advance the consumer offset'
complete -c mfq -n "__fish_mfq_needs_command" -f -a "tail" -d 'Follow a store, printing records as they are appended'
complete -c mfq -n "__fish_mfq_needs_command" -f -a "stat" -d 'Show a store\'s format, offsets, consumers and segments'
complete -c mfq -n "__fish_mfq_needs_command" -f -a "dump-segment" -d 'Print the records of one segment file and check them'
complete -c mfq -n "__fish_mfq_needs_command" -f -a "adjust-offset" -d 'Move the producer offset or a consumer offset; create or delete a named consumer'
complete -c mfq -n "__fish_mfq_needs_command" -f -a "prune" -d 'Delete segment files that hold only records before an offset'
complete -c mfq -n "__fish_mfq_needs_command" -f -a "recover" -d 'Check a store and repair torn writes and damaged offset files'
complete -c mfq -n "__fish_mfq_needs_command" -f -a "bench" -d 'Measure produce and consume throughput'
complete -c mfq -n "__fish_mfq_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c mfq -n "__fish_mfq_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mfq -n "__fish_mfq_using_subcommand produce" -s m -l message -d 'A message to append; repeat for several (`-m one -m two`). With -m, no input is read' -r
complete -c mfq -n "__fish_mfq_using_subcommand produce" -l input -d 'How the input is split into messages: `lines` (one per line; the `\\n` is dropped, every other byte kept, so an empty line is an empty message: see --allow-dotnet-hazards for stream stores; fixed stores refuse it), `raw` (fixed stores: the input cut into record-size messages, and nothing is written unless its length is a multiple of the record size; stream stores: the whole input is one message) or `length-prefixed` (each message preceded by its length as a 4-byte little-endian integer). A refused message stops the run; the messages before it stay written' -r -f -a "lines\t'One message per line; the `\\n` is not part of the message (a `\\r` before it is)'
raw\t'Fixed stores: record-size chunks; stream stores: the whole input as one message'
length-prefixed\t'Each message is preceded by its length as a 4-byte little-endian unsigned integer'"
complete -c mfq -n "__fish_mfq_using_subcommand produce" -l file -d 'Read the input from this file instead of standard input (`--file events.txt`). Default: standard input' -r -F
complete -c mfq -n "__fish_mfq_using_subcommand produce" -l pad-byte -d 'The byte value --pad fills with, 0-255 (`--pad --pad-byte 32` pads with spaces)' -r
complete -c mfq -n "__fish_mfq_using_subcommand produce" -l flush-every -d 'Flush the written records to disk after every N messages; the end of input always flushes' -r
complete -c mfq -n "__fish_mfq_using_subcommand produce" -l flush-interval -d 'Also flush when this much time has passed since the last flush, e.g. `500ms` or `2s`. Default: no time-based flushing' -r
complete -c mfq -n "__fish_mfq_using_subcommand produce" -s s -l store -d 'The store folder (`-s ./store`). Default: $MFQ_STORE (an error when set but empty), else the current directory. A STORE positional wins over this' -r -F
complete -c mfq -n "__fish_mfq_using_subcommand produce" -l format -d 'Store format: `fixed` (every payload is --record-size bytes) or `stream` (length-prefixed payloads of any size). Default: read from an existing store' -r -f -a "fixed\t'Every record has the same payload size (`--record-size`)'
stream\t'Records are length-prefixed and may differ in size'"
complete -c mfq -n "__fish_mfq_using_subcommand produce" -l record-size -d 'Payload size in bytes of every record of a fixed-format store (`--record-size 64`). Default: read from an existing store' -r
complete -c mfq -n "__fish_mfq_using_subcommand produce" -l segment-size -d 'Size of each segment file, in bytes or with a suffix: `4096`, `64MiB`, `1GiB`, `1TiB` (K/KiB = 1024, KB = 1000; case-insensitive). A new store defaults to 64 MiB; an existing store\'s is read from mfq.json or inferred from its files' -r
complete -c mfq -n "__fish_mfq_using_subcommand produce" -l pad -d 'Fixed-format stores only: pad messages shorter than the record size with zero bytes (or --pad-byte) instead of rejecting them. Default: shorter messages are an error'
complete -c mfq -n "__fish_mfq_using_subcommand produce" -l allow-dotnet-hazards -d 'Stream stores without mfq.json (which a .NET reader may read): write empty messages and messages of 238 mod 256 bytes (238, 494, 750, ...) anyway. A .NET consumer never gets past them (it takes an empty record for one not yet written, and the low length byte 0xEE for a segment end); mfq\'s readers read them. Default: refuse them, writing nothing. Stores mfq created (with mfq.json) always take them'
complete -c mfq -n "__fish_mfq_using_subcommand produce" -l json -d 'Print machine-readable JSON instead of text (stat, bench and reports; for consume and tail the same as --output json, unless --output names another layout, which wins); an error is then one JSON object on standard error'
complete -c mfq -n "__fish_mfq_using_subcommand produce" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfq -n "__fish_mfq_using_subcommand consume" -s n -l count -d 'How many messages to take: a number, or `all` for every message available now' -r -f -a "all\t''"
complete -c mfq -n "__fish_mfq_using_subcommand consume" -l consumer -d 'Read and advance this named consumer\'s offset (`--consumer reports`). Default: the store\'s main consumer' -r
complete -c mfq -n "__fish_mfq_using_subcommand consume" -l wait -d 'Wait up to this long for each message that is not there yet (`--wait 30s`): for the first one, and with -n for each further one, so `-n all --wait 5s` stops once 5s pass without a new message. Default: take only what is there now; when that is nothing, exit with status 3 (printing nothing on standard output)' -r
complete -c mfq -n "__fish_mfq_using_subcommand consume" -l output -d 'How to print messages: `text` (one per line: the payload as is when it is printable UTF-8, else with control characters and invalid bytes escaped), `raw` (payload bytes only, no separators), `hex` (a header line with the offset, then a hex dump; coloured only on a terminal without NO_COLOR) or `json` (one object per line: `v`, `offset`, `next_offset`, `record_size`, `payload_size` and `payload`, see --payload). Default: `text`, or `json` with the global --json' -r -f -a "text\t'One message per line, control characters escaped'
raw\t'The payload bytes exactly, nothing added'
hex\t'A hex dump per message'
json\t'One JSON object per line with the offset and the payload'"
complete -c mfq -n "__fish_mfq_using_subcommand consume" -l payload -d 'How JSON output encodes payloads: `auto` (`{"text": ...}` when the payload is UTF-8 without control characters but tab, newline and carriage return, else `{"base64": ...}`), `text` (always text; bytes that are not UTF-8 become U+FFFD), `base64` or `hex`. Only with JSON output. Default: `auto`' -r -f -a "auto\t'`{"text": ...}` when the payload is printable UTF-8 (no control characters but tab, newline and carriage return), else `{"base64": ...}`'
text\t'Always `{"text": ...}`; bytes that are not UTF-8 become U+FFFD'
base64\t'Always `{"base64": ...}` (standard alphabet, padded)'
hex\t'Always `{"hex": ...}` (lowercase, two digits a byte)'"
complete -c mfq -n "__fish_mfq_using_subcommand consume" -s s -l store -d 'The store folder (`-s ./store`). Default: $MFQ_STORE (an error when set but empty), else the current directory. A STORE positional wins over this' -r -F
complete -c mfq -n "__fish_mfq_using_subcommand consume" -l format -d 'Store format: `fixed` (every payload is --record-size bytes) or `stream` (length-prefixed payloads of any size). Default: read from an existing store' -r -f -a "fixed\t'Every record has the same payload size (`--record-size`)'
stream\t'Records are length-prefixed and may differ in size'"
complete -c mfq -n "__fish_mfq_using_subcommand consume" -l record-size -d 'Payload size in bytes of every record of a fixed-format store (`--record-size 64`). Default: read from an existing store' -r
complete -c mfq -n "__fish_mfq_using_subcommand consume" -l segment-size -d 'Size of each segment file, in bytes or with a suffix: `4096`, `64MiB`, `1GiB`, `1TiB` (K/KiB = 1024, KB = 1000; case-insensitive). A new store defaults to 64 MiB; an existing store\'s is read from mfq.json or inferred from its files' -r
complete -c mfq -n "__fish_mfq_using_subcommand consume" -l peek -d 'Print the messages without advancing the consumer offset (and without creating the consumer\'s offset file). Without --peek, the offset moves only past messages that were written to standard output successfully: output goes out in batches of up to 4096 messages, each committed after it is written, so a closed pipe may cause the last batch to be delivered again, never lost'
complete -c mfq -n "__fish_mfq_using_subcommand consume" -l json -d 'Print machine-readable JSON instead of text (stat, bench and reports; for consume and tail the same as --output json, unless --output names another layout, which wins); an error is then one JSON object on standard error'
complete -c mfq -n "__fish_mfq_using_subcommand consume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfq -n "__fish_mfq_using_subcommand tail" -s n -l lines -d 'Show the last N records before following new ones (`-n 10`)' -r
complete -c mfq -n "__fish_mfq_using_subcommand tail" -l from -d 'Start at this offset, at `earliest` (or `beginning`: the oldest stored record) or at `latest` (or `end`). Default: the end of the queue (after the last -n records); with -e and no -n, the earliest record' -r -f -a "earliest\t''
beginning\t''
latest\t''
end\t''"
complete -c mfq -n "__fish_mfq_using_subcommand tail" -l output -d 'How to print records: `text`, `raw`, `hex` or `json` (see `mfq consume --help`). Default: `text`, or `json` with the global --json' -r -f -a "text\t'One message per line, control characters escaped'
raw\t'The payload bytes exactly, nothing added'
hex\t'A hex dump per message'
json\t'One JSON object per line with the offset and the payload'"
complete -c mfq -n "__fish_mfq_using_subcommand tail" -l payload -d 'How JSON output encodes payloads: `auto`, `text`, `base64` or `hex` (see `mfq consume --help`). Only with JSON output. Default: `auto`' -r -f -a "auto\t'`{"text": ...}` when the payload is printable UTF-8 (no control characters but tab, newline and carriage return), else `{"base64": ...}`'
text\t'Always `{"text": ...}`; bytes that are not UTF-8 become U+FFFD'
base64\t'Always `{"base64": ...}` (standard alphabet, padded)'
hex\t'Always `{"hex": ...}` (lowercase, two digits a byte)'"
complete -c mfq -n "__fish_mfq_using_subcommand tail" -s s -l store -d 'The store folder (`-s ./store`). Default: $MFQ_STORE (an error when set but empty), else the current directory. A STORE positional wins over this' -r -F
complete -c mfq -n "__fish_mfq_using_subcommand tail" -l format -d 'Store format: `fixed` (every payload is --record-size bytes) or `stream` (length-prefixed payloads of any size). Default: read from an existing store' -r -f -a "fixed\t'Every record has the same payload size (`--record-size`)'
stream\t'Records are length-prefixed and may differ in size'"
complete -c mfq -n "__fish_mfq_using_subcommand tail" -l record-size -d 'Payload size in bytes of every record of a fixed-format store (`--record-size 64`). Default: read from an existing store' -r
complete -c mfq -n "__fish_mfq_using_subcommand tail" -l segment-size -d 'Size of each segment file, in bytes or with a suffix: `4096`, `64MiB`, `1GiB`, `1TiB` (K/KiB = 1024, KB = 1000; case-insensitive). A new store defaults to 64 MiB; an existing store\'s is read from mfq.json or inferred from its files' -r
complete -c mfq -n "__fish_mfq_using_subcommand tail" -s e -l exit-at-end -d 'Print what is stored, then exit (status 0) at the end of the queue instead of waiting for new records. Without --from or -n it starts at the earliest record (like `kcat -C -e`)'
complete -c mfq -n "__fish_mfq_using_subcommand tail" -l json -d 'Print machine-readable JSON instead of text (stat, bench and reports; for consume and tail the same as --output json, unless --output names another layout, which wins); an error is then one JSON object on standard error'
complete -c mfq -n "__fish_mfq_using_subcommand tail" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfq -n "__fish_mfq_using_subcommand stat" -l consumer -d 'Check only this consumer (`consumer` for the default one). Default: every consumer' -r
complete -c mfq -n "__fish_mfq_using_subcommand stat" -l max-lag-messages -d 'Critical when a consumer lags more than N messages' -r
complete -c mfq -n "__fish_mfq_using_subcommand stat" -l warn-lag-messages -d 'Warning when a consumer lags more than N messages' -r
complete -c mfq -n "__fish_mfq_using_subcommand stat" -l max-lag-bytes -d 'Critical when a consumer lags more than SIZE bytes (`64MiB`)' -r
complete -c mfq -n "__fish_mfq_using_subcommand stat" -l warn-lag-bytes -d 'Warning when a consumer lags more than SIZE bytes' -r
complete -c mfq -n "__fish_mfq_using_subcommand stat" -l max-idle -d 'Critical when a consumer with lag has not committed for longer than this (`5m`): the time since its offset file last changed' -r
complete -c mfq -n "__fish_mfq_using_subcommand stat" -l warn-idle -d 'Warning when a consumer with lag has not committed for longer than this' -r
complete -c mfq -n "__fish_mfq_using_subcommand stat" -s s -l store -d 'The store folder (`-s ./store`). Default: $MFQ_STORE (an error when set but empty), else the current directory. A STORE positional wins over this' -r -F
complete -c mfq -n "__fish_mfq_using_subcommand stat" -l format -d 'Store format: `fixed` (every payload is --record-size bytes) or `stream` (length-prefixed payloads of any size). Default: read from an existing store' -r -f -a "fixed\t'Every record has the same payload size (`--record-size`)'
stream\t'Records are length-prefixed and may differ in size'"
complete -c mfq -n "__fish_mfq_using_subcommand stat" -l record-size -d 'Payload size in bytes of every record of a fixed-format store (`--record-size 64`). Default: read from an existing store' -r
complete -c mfq -n "__fish_mfq_using_subcommand stat" -l segment-size -d 'Size of each segment file, in bytes or with a suffix: `4096`, `64MiB`, `1GiB`, `1TiB` (K/KiB = 1024, KB = 1000; case-insensitive). A new store defaults to 64 MiB; an existing store\'s is read from mfq.json or inferred from its files' -r
complete -c mfq -n "__fish_mfq_using_subcommand stat" -l check -d 'Monitoring check (Nagios convention): print one line `OK: ...`, `WARNING: ...` or `CRITICAL: ...` and exit 0, 1 or 2; an error exits 3 (UNKNOWN). A store that needs a repair is critical; so is a consumer past a `--max-*` limit, and one past a `--warn-*` limit is a warning'
complete -c mfq -n "__fish_mfq_using_subcommand stat" -l json -d 'Print machine-readable JSON instead of text (stat, bench and reports; for consume and tail the same as --output json, unless --output names another layout, which wins); an error is then one JSON object on standard error'
complete -c mfq -n "__fish_mfq_using_subcommand stat" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfq -n "__fish_mfq_using_subcommand dump-segment" -l offset -d 'Start at the record at or containing this queue offset (--limit counts from there), in the segment holding it (or in SEGMENT, which must hold it); `earliest` (or `beginning`) is the oldest stored record, `latest` (or `end`) the newest segment from its start. Default: the segment\'s start' -r
complete -c mfq -n "__fish_mfq_using_subcommand dump-segment" -l limit -d 'Show at most this many records. Default: every record in the segment' -r
complete -c mfq -n "__fish_mfq_using_subcommand dump-segment" -l payload -d 'How --json encodes payloads: `auto`, `text`, `base64` or `hex` (see `mfq consume --help`). Only with --json. Default: `auto`' -r -f -a "auto\t'`{"text": ...}` when the payload is printable UTF-8 (no control characters but tab, newline and carriage return), else `{"base64": ...}`'
text\t'Always `{"text": ...}`; bytes that are not UTF-8 become U+FFFD'
base64\t'Always `{"base64": ...}` (standard alphabet, padded)'
hex\t'Always `{"hex": ...}` (lowercase, two digits a byte)'"
complete -c mfq -n "__fish_mfq_using_subcommand dump-segment" -s s -l store -d 'The store folder (`-s ./store`). Default: $MFQ_STORE (an error when set but empty), else the current directory. A STORE positional wins over this' -r -F
complete -c mfq -n "__fish_mfq_using_subcommand dump-segment" -l format -d 'Store format: `fixed` (every payload is --record-size bytes) or `stream` (length-prefixed payloads of any size). Default: read from an existing store' -r -f -a "fixed\t'Every record has the same payload size (`--record-size`)'
stream\t'Records are length-prefixed and may differ in size'"
complete -c mfq -n "__fish_mfq_using_subcommand dump-segment" -l record-size -d 'Payload size in bytes of every record of a fixed-format store (`--record-size 64`). Default: read from an existing store' -r
complete -c mfq -n "__fish_mfq_using_subcommand dump-segment" -l segment-size -d 'Size of each segment file, in bytes or with a suffix: `4096`, `64MiB`, `1GiB`, `1TiB` (K/KiB = 1024, KB = 1000; case-insensitive). A new store defaults to 64 MiB; an existing store\'s is read from mfq.json or inferred from its files' -r
complete -c mfq -n "__fish_mfq_using_subcommand dump-segment" -l hex -d 'Also print each record\'s bytes as a hex dump. Default: a one-line preview per record'
complete -c mfq -n "__fish_mfq_using_subcommand dump-segment" -l json -d 'Print machine-readable JSON instead of text (stat, bench and reports; for consume and tail the same as --output json, unless --output names another layout, which wins); an error is then one JSON object on standard error'
complete -c mfq -n "__fish_mfq_using_subcommand dump-segment" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfq -n "__fish_mfq_using_subcommand adjust-offset" -s s -l store -d 'The store folder (`-s ./store`). Default: $MFQ_STORE (an error when set but empty), else the current directory. A STORE positional wins over this' -r -F
complete -c mfq -n "__fish_mfq_using_subcommand adjust-offset" -l format -d 'Store format: `fixed` (every payload is --record-size bytes) or `stream` (length-prefixed payloads of any size). Default: read from an existing store' -r -f -a "fixed\t'Every record has the same payload size (`--record-size`)'
stream\t'Records are length-prefixed and may differ in size'"
complete -c mfq -n "__fish_mfq_using_subcommand adjust-offset" -l record-size -d 'Payload size in bytes of every record of a fixed-format store (`--record-size 64`). Default: read from an existing store' -r
complete -c mfq -n "__fish_mfq_using_subcommand adjust-offset" -l segment-size -d 'Size of each segment file, in bytes or with a suffix: `4096`, `64MiB`, `1GiB`, `1TiB` (K/KiB = 1024, KB = 1000; case-insensitive). A new store defaults to 64 MiB; an existing store\'s is read from mfq.json or inferred from its files' -r
complete -c mfq -n "__fish_mfq_using_subcommand adjust-offset" -l dry-run -d 'Print the old and new offsets without changing anything'
complete -c mfq -n "__fish_mfq_using_subcommand adjust-offset" -l force -d 'Change the offset even while a live process holds its file, and let the producer move back behind records or a consumer. Default: refuse (exit status 5 when a live process holds the file)'
complete -c mfq -n "__fish_mfq_using_subcommand adjust-offset" -l create -d 'Create the named consumer TARGET when it does not exist yet, at POSITION (an offset, `earliest` or `latest`). Default: an unknown consumer name is an error'
complete -c mfq -n "__fish_mfq_using_subcommand adjust-offset" -l delete -d 'Delete the named consumer TARGET (its offset file; no POSITION). The default consumer and the producer cannot be deleted'
complete -c mfq -n "__fish_mfq_using_subcommand adjust-offset" -l clamp -d 'Stop a `+N` or `-N` move at the end of the records, or at the earliest record, when it would go past it. Default: refuse such a move'
complete -c mfq -n "__fish_mfq_using_subcommand adjust-offset" -l json -d 'Print machine-readable JSON instead of text (stat, bench and reports; for consume and tail the same as --output json, unless --output names another layout, which wins); an error is then one JSON object on standard error'
complete -c mfq -n "__fish_mfq_using_subcommand adjust-offset" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfq -n "__fish_mfq_using_subcommand prune" -l before -d 'Delete segment files whose records all lie before this offset, or before `consumed` (the slowest consumer\'s offset), `latest` (or `end`: the end of the queue, as far as consumers and the producer allow) or `earliest` (or `beginning`: deletes nothing). Required' -r -f -a "consumed\t''
earliest\t''
latest\t''"
complete -c mfq -n "__fish_mfq_using_subcommand prune" -s s -l store -d 'The store folder (`-s ./store`). Default: $MFQ_STORE (an error when set but empty), else the current directory. A STORE positional wins over this' -r -F
complete -c mfq -n "__fish_mfq_using_subcommand prune" -l format -d 'Store format: `fixed` (every payload is --record-size bytes) or `stream` (length-prefixed payloads of any size). Default: read from an existing store' -r -f -a "fixed\t'Every record has the same payload size (`--record-size`)'
stream\t'Records are length-prefixed and may differ in size'"
complete -c mfq -n "__fish_mfq_using_subcommand prune" -l record-size -d 'Payload size in bytes of every record of a fixed-format store (`--record-size 64`). Default: read from an existing store' -r
complete -c mfq -n "__fish_mfq_using_subcommand prune" -l segment-size -d 'Size of each segment file, in bytes or with a suffix: `4096`, `64MiB`, `1GiB`, `1TiB` (K/KiB = 1024, KB = 1000; case-insensitive). A new store defaults to 64 MiB; an existing store\'s is read from mfq.json or inferred from its files' -r
complete -c mfq -n "__fish_mfq_using_subcommand prune" -l dry-run -d 'List the segment files that would be deleted without deleting them'
complete -c mfq -n "__fish_mfq_using_subcommand prune" -l force -d 'Also delete segments the slowest consumer or the producer still needs. Segments a live process holds open are never deleted (the first one stops the prune, so no hole is left; a note on stderr says which), and the last segment always stays'
complete -c mfq -n "__fish_mfq_using_subcommand prune" -l json -d 'Print machine-readable JSON instead of text (stat, bench and reports; for consume and tail the same as --output json, unless --output names another layout, which wins); an error is then one JSON object on standard error'
complete -c mfq -n "__fish_mfq_using_subcommand prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfq -n "__fish_mfq_using_subcommand recover" -l save-to -d 'Save the bytes a repair removes (stale or torn records, unreachable segments) into this folder first (`--save-to /tmp/mfq-saved`). Default: `<store>/mfq-salvage/<unix-seconds>/`, named in the output' -r -F
complete -c mfq -n "__fish_mfq_using_subcommand recover" -s s -l store -d 'The store folder (`-s ./store`). Default: $MFQ_STORE (an error when set but empty), else the current directory. A STORE positional wins over this' -r -F
complete -c mfq -n "__fish_mfq_using_subcommand recover" -l format -d 'Store format: `fixed` (every payload is --record-size bytes) or `stream` (length-prefixed payloads of any size). Default: read from an existing store' -r -f -a "fixed\t'Every record has the same payload size (`--record-size`)'
stream\t'Records are length-prefixed and may differ in size'"
complete -c mfq -n "__fish_mfq_using_subcommand recover" -l record-size -d 'Payload size in bytes of every record of a fixed-format store (`--record-size 64`). Default: read from an existing store' -r
complete -c mfq -n "__fish_mfq_using_subcommand recover" -l segment-size -d 'Size of each segment file, in bytes or with a suffix: `4096`, `64MiB`, `1GiB`, `1TiB` (K/KiB = 1024, KB = 1000; case-insensitive). A new store defaults to 64 MiB; an existing store\'s is read from mfq.json or inferred from its files' -r
complete -c mfq -n "__fish_mfq_using_subcommand recover" -l dry-run -d 'Print the repairs that would be made without making them'
complete -c mfq -n "__fish_mfq_using_subcommand recover" -l check -d 'Only check: exit 0 when the store is sound, 4 when it needs a repair. Changes nothing'
complete -c mfq -n "__fish_mfq_using_subcommand recover" -l no-save -d 'Do not keep a copy of the bytes a repair removes'
complete -c mfq -n "__fish_mfq_using_subcommand recover" -l force -d 'Repair even while a live process holds the store (default: refuse with exit status 5), and remove damaged or unreachable bytes below the confirmed offset, which `--dry-run` lists (default: refuse with exit status 4 and change nothing). Removed bytes are still saved aside unless `--no-save`'
complete -c mfq -n "__fish_mfq_using_subcommand recover" -l json -d 'Print machine-readable JSON instead of text (stat, bench and reports; for consume and tail the same as --output json, unless --output names another layout, which wins); an error is then one JSON object on standard error'
complete -c mfq -n "__fish_mfq_using_subcommand recover" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfq -n "__fish_mfq_using_subcommand bench" -l count -d 'Messages to produce and consume per run. Default: 10000000 (100000 with --quick)' -r
complete -c mfq -n "__fish_mfq_using_subcommand bench" -l size -d 'Payload size of each message in bytes' -r
complete -c mfq -n "__fish_mfq_using_subcommand bench" -l flush-every -d 'Flush after every N messages (see `mfq produce --help`)' -r
complete -c mfq -n "__fish_mfq_using_subcommand bench" -l processes -d '2 (default): also run the two-process workloads (end-to-end throughput with a spinning consumer process, one-way latency, blocked-consumer wake-up latency); 1: only the single-process workloads' -r
complete -c mfq -n "__fish_mfq_using_subcommand bench" -l runs -d 'How many times to repeat the measurement; the report shows each run and the median. Default: 3 (1 with --quick)' -r
complete -c mfq -n "__fish_mfq_using_subcommand bench" -l only -d 'Run only these workloads, comma-separated (`--only durable`, `--only write,read`). The memcpy limits always run. Default: all (the two-process ones as --processes says)' -r -f -a "write\t'One producer, no flush policy'
read\t'One consumer reading and committing what the write workload wrote'
durable\t'A producer with the flush policy until all is confirmed, and the disk\'s bandwidth'
sync\t'A producer that syncs after every message'
cross\t'A producer and a spinning consumer in two processes'
latency\t'One-way latency between two processes'
wake\t'Wake-up latency of a blocked consumer'"
complete -c mfq -n "__fish_mfq_using_subcommand bench" -s s -l store -d 'The store folder (`-s ./store`). Default: $MFQ_STORE (an error when set but empty), else the current directory. A STORE positional wins over this' -r -F
complete -c mfq -n "__fish_mfq_using_subcommand bench" -l format -d 'Store format: `fixed` (every payload is --record-size bytes) or `stream` (length-prefixed payloads of any size). Default: read from an existing store' -r -f -a "fixed\t'Every record has the same payload size (`--record-size`)'
stream\t'Records are length-prefixed and may differ in size'"
complete -c mfq -n "__fish_mfq_using_subcommand bench" -l record-size -d 'Payload size in bytes of every record of a fixed-format store (`--record-size 64`). Default: read from an existing store' -r
complete -c mfq -n "__fish_mfq_using_subcommand bench" -l segment-size -d 'Size of each segment file, in bytes or with a suffix: `4096`, `64MiB`, `1GiB`, `1TiB` (K/KiB = 1024, KB = 1000; case-insensitive). A new store defaults to 64 MiB; an existing store\'s is read from mfq.json or inferred from its files' -r
complete -c mfq -n "__fish_mfq_using_subcommand bench" -l quick -d 'A quick smoke run: 100000 messages, 1 run, unless --count or --runs say otherwise'
complete -c mfq -n "__fish_mfq_using_subcommand bench" -l json -d 'Print machine-readable JSON instead of text (stat, bench and reports; for consume and tail the same as --output json, unless --output names another layout, which wins); an error is then one JSON object on standard error'
complete -c mfq -n "__fish_mfq_using_subcommand bench" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfq -n "__fish_mfq_using_subcommand completions" -s s -l store -d 'The store folder (`-s ./store`). Default: $MFQ_STORE (an error when set but empty), else the current directory. A STORE positional wins over this' -r -F
complete -c mfq -n "__fish_mfq_using_subcommand completions" -l format -d 'Store format: `fixed` (every payload is --record-size bytes) or `stream` (length-prefixed payloads of any size). Default: read from an existing store' -r -f -a "fixed\t'Every record has the same payload size (`--record-size`)'
stream\t'Records are length-prefixed and may differ in size'"
complete -c mfq -n "__fish_mfq_using_subcommand completions" -l record-size -d 'Payload size in bytes of every record of a fixed-format store (`--record-size 64`). Default: read from an existing store' -r
complete -c mfq -n "__fish_mfq_using_subcommand completions" -l segment-size -d 'Size of each segment file, in bytes or with a suffix: `4096`, `64MiB`, `1GiB`, `1TiB` (K/KiB = 1024, KB = 1000; case-insensitive). A new store defaults to 64 MiB; an existing store\'s is read from mfq.json or inferred from its files' -r
complete -c mfq -n "__fish_mfq_using_subcommand completions" -l json -d 'Print machine-readable JSON instead of text (stat, bench and reports; for consume and tail the same as --output json, unless --output names another layout, which wins); an error is then one JSON object on standard error'
complete -c mfq -n "__fish_mfq_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfq -n "__fish_mfq_using_subcommand help; and not __fish_seen_subcommand_from produce consume tail stat dump-segment adjust-offset prune recover bench completions help" -f -a "produce" -d 'Append messages to a store'
complete -c mfq -n "__fish_mfq_using_subcommand help; and not __fish_seen_subcommand_from produce consume tail stat dump-segment adjust-offset prune recover bench completions help" -f -a "consume" -d 'Take messages from a store and advance the consumer offset'
complete -c mfq -n "__fish_mfq_using_subcommand help; and not __fish_seen_subcommand_from produce consume tail stat dump-segment adjust-offset prune recover bench completions help" -f -a "tail" -d 'Follow a store, printing records as they are appended'
complete -c mfq -n "__fish_mfq_using_subcommand help; and not __fish_seen_subcommand_from produce consume tail stat dump-segment adjust-offset prune recover bench completions help" -f -a "stat" -d 'Show a store\'s format, offsets, consumers and segments'
complete -c mfq -n "__fish_mfq_using_subcommand help; and not __fish_seen_subcommand_from produce consume tail stat dump-segment adjust-offset prune recover bench completions help" -f -a "dump-segment" -d 'Print the records of one segment file and check them'
complete -c mfq -n "__fish_mfq_using_subcommand help; and not __fish_seen_subcommand_from produce consume tail stat dump-segment adjust-offset prune recover bench completions help" -f -a "adjust-offset" -d 'Move the producer offset or a consumer offset; create or delete a named consumer'
complete -c mfq -n "__fish_mfq_using_subcommand help; and not __fish_seen_subcommand_from produce consume tail stat dump-segment adjust-offset prune recover bench completions help" -f -a "prune" -d 'Delete segment files that hold only records before an offset'
complete -c mfq -n "__fish_mfq_using_subcommand help; and not __fish_seen_subcommand_from produce consume tail stat dump-segment adjust-offset prune recover bench completions help" -f -a "recover" -d 'Check a store and repair torn writes and damaged offset files'
complete -c mfq -n "__fish_mfq_using_subcommand help; and not __fish_seen_subcommand_from produce consume tail stat dump-segment adjust-offset prune recover bench completions help" -f -a "bench" -d 'Measure produce and consume throughput'
complete -c mfq -n "__fish_mfq_using_subcommand help; and not __fish_seen_subcommand_from produce consume tail stat dump-segment adjust-offset prune recover bench completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c mfq -n "__fish_mfq_using_subcommand help; and not __fish_seen_subcommand_from produce consume tail stat dump-segment adjust-offset prune recover bench completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

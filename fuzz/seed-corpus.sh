#!/bin/sh
# Seeds fuzz/corpus/<target>/ from the repository's own files (transcripts, doctest
# files, definitions, fixtures, HTSQL scripts). Safe to re-run: files are named by
# content hash, so nothing is duplicated and libFuzzer's own corpus entries stay.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
corpus="$root/fuzz/corpus"
cd "$root"

# put TARGET FILE: copy FILE's content into the target's corpus
put() {
    mkdir -p "$corpus/$1"
    h=$(sha1sum "$2" | cut -c1-40)
    cp "$2" "$corpus/$1/seed-$h"
}
# put_text TARGET TEXT: the same for a string
put_text() {
    tmp=$(mktemp)
    printf '%s' "$2" >"$tmp"
    put "$1" "$tmp"
    rm -f "$tmp"
}

doctests=$(find transcripts tests/doctest -name '*.txt' | sort)
yamls=$(find definitions tests/fixtures src/deploy/builtin -name '*.yaml' | sort)
htsqls=$(find definitions tests/fixtures -name '*.htsql' | sort)

for f in $doctests; do
    put doctest_parse "$f"
    # the source lines of the examples (prompts stripped) for the script targets
    tmp=$(mktemp)
    sed -n 's/^ *\(>>>\|\.\.\.\) \{0,1\}//p' "$f" >"$tmp"
    if [ -s "$tmp" ]; then
        put script_parse "$tmp"
        put script_lex "$tmp"
    fi
    # want == got, ELLIPSIS | NORMALIZE_WHITESPACE, for the checker
    { printf '\014\000'; cat "$f"; printf '\000'; cat "$f"; } >"$tmp"
    put doctest_check "$tmp"
    rm -f "$tmp"
done

for f in $yamls; do
    put yaml_load "$f"
    put deploy_facts "$f"
    put mart_definition "$f"
done

for f in $htsqls; do
    put htsql_parse "$f"
done
# HTSQL queries quoted in the transcripts and the HTSQL tests
grep -ohE "'/[^']*'" transcripts/*.txt tests/htsql_*.rs 2>/dev/null | sort -u | while read -r q; do
    put_text htsql_parse "$(printf '%s' "$q" | sed "s/^'//; s/'\$//")"
done

for doc in \
    '{"owner": "someone", "definition": "some_def"}' \
    '{"owner": "x", "definition": "y", "halt_on_failure": true, "purge_on_failure": false, "leave_incomplete": true, "parameters": {"a": 1, "b": [1, 2]}}' \
    '{"owner": 1}' \
    '[]' \
    'null'; do
    put_text runlist_json "$doc"
done

for doc in \
    '{"a": [1, 2.5, -3e10, true, false, null], "b": {"c": "\u00e9\ud83d\ude00"}}' \
    '[1e400, -0.0, 123456789012345678901234567890, "\n\t\\"]' \
    'NaN' '-Infinity' '"\ud800"' '  {"k": "v"}  ' '[' '{"a" 1}'; do
    put_text json_loads "$doc"
done

for t in "$corpus"/*; do
    echo "$(basename "$t"): $(ls "$t" | wc -l) files"
done

#!/bin/sh
# The demo: a retailer and an advertiser, each with its own key and table,
# find their shared customers over loopback TLS without showing each other
# anything else. Run by `make demo`.
set -eu
BIN=./overlap
D=build/demo
rm -rf "$D"
mkdir -p "$D"
echo "== keys: each party creates its identity and hands its .pub to the other"
$BIN keygen --name retailer --dir "$D"
$BIN keygen --name advertiser --dir "$D"
PORT=${OVL_DEMO_PORT:-7700}
echo
echo "== the retailer listens on 127.0.0.1:$PORT with purchases.csv (45 rows)"
$BIN run --listen 127.0.0.1:$PORT --identity "$D/retailer.key" --peer "$D/advertiser.pub" \
    --table tests/demo/purchases.csv --join email --normalize email \
    --mode intersection --out "$D/retailer-matches.csv" --summary json --quiet \
    >"$D/retailer.summary" 2>"$D/retailer.log" &
RETAILER=$!
echo "== the advertiser connects with impressions.csv (40 rows)"
if ! $BIN run --connect 127.0.0.1:$PORT --identity "$D/advertiser.key" --peer "$D/retailer.pub" \
    --table tests/demo/impressions.csv --join email --normalize email \
    --mode intersection --out "$D/advertiser-matches.csv" --summary json --quiet \
    >"$D/advertiser.summary"; then
    kill $RETAILER 2>/dev/null || true
    echo "demo: the advertiser's run failed" >&2
    exit 1
fi
if ! wait $RETAILER; then
    cat "$D/retailer.log" >&2
    echo "demo: the retailer's run failed" >&2
    exit 1
fi
echo
echo "== the retailer's matching purchase rows ($D/retailer-matches.csv):"
cat "$D/retailer-matches.csv"
echo
echo "== the advertiser's matching impression rows ($D/advertiser-matches.csv):"
cat "$D/advertiser-matches.csv"
echo
echo "== run summaries (what each side saw):"
echo "retailer:   $(cat "$D/retailer.summary")"
echo "advertiser: $(cat "$D/advertiser.summary")"
echo
echo "Neither side received the other's rows or non-matching identifiers: see protocols/psi/SPEC.md §7."

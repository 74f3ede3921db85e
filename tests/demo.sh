#!/bin/sh
# The demo (`make demo`): a retailer and an advertiser, each with its own key,
# table and policy, measure an ad campaign's attributed revenue without
# showing each other a row, in the shape of the reference article's query:
# the advertiser's campaign and ad format, the retailer's product category
# and purchase week, both parties' sums and the ROAS of every cell. Both
# approve the attribution template; the retailer serves its purchases; the
# advertiser runs the template with its parameters and receives only the
# cells with enough matched customers, decided inside the two-party
# computation (protocols/aggregate/SPEC.md). Part 2:
# an intersection, which both policies allow, with output for the advertiser
# only. Both audit logs are verified at the end.
# The tables are tests/demo/*.csv, written by tests/demo/gen_demo.py.
set -eu
BIN=${OVL_DEMO_BIN:-$(pwd)/overlap}
SRC=$(pwd)/tests/demo
D=${OVL_DEMO_DIR:-build/demo}
rm -rf "$D"
mkdir -p "$D"
cd "$D"
SERVER=""
stop_server() {
    [ -n "$SERVER" ] || return 0
    kill -TERM "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    SERVER=""
}
trap stop_server EXIT
fail() {
    echo "demo: $*" >&2
    [ -f serve.log ] && sed 's/^/  serve: /' serve.log >&2
    exit 1
}

echo "== 1. keys: each owner creates its identity and hands its .pub to the other"
"$BIN" keygen --name retailer --dir . >/dev/null
"$BIN" keygen --name advertiser --dir . >/dev/null
RFPR=$("$BIN" fingerprint retailer.pub | cut -d' ' -f1)
AFPR=$("$BIN" fingerprint advertiser.pub | cut -d' ' -f1)
echo "   retailer   $RFPR"
echo "   advertiser $AFPR"

echo
echo "== 2. policies: each owner lists its partner's fingerprint in its own policy"
# The shipped policies name a placeholder key (SHA256:000...); each owner
# writes its partner's real fingerprint there.
sed -E "s/SHA256:[0-9a-f]{64}/$AFPR/g" "$SRC/retail.policy.json" >retail.policy.json
sed -E "s/SHA256:[0-9a-f]{64}/$RFPR/g" "$SRC/advertiser.policy.json" >advertiser.policy.json
cp "$SRC/purchases.csv" "$SRC/impressions.csv" "$SRC/attribution.sql" .
"$BIN" policy check retail.policy.json | sed -n 's/^  groups with/   retailer:   groups with/p'
"$BIN" policy check advertiser.policy.json | sed -n 's/^  groups with/   advertiser: groups with/p'
echo "   purchases.csv:   $(($(wc -l <purchases.csv) - 1)) rows (retailer)"
echo "   impressions.csv: $(($(wc -l <impressions.csv) - 1)) rows (advertiser)"

echo
echo "== 3. both owners approve the attribution template (and exchange the .sig files)"
echo "   hash $("$BIN" template hash attribution.sql)"
"$BIN" template approve attribution.sql --identity retailer.key | sed "s/^/   /"
"$BIN" template approve attribution.sql --identity advertiser.key | sed "s/^/   /"
"$BIN" template verify attribution.sql --key retailer.pub --key advertiser.pub \
    --param campaign_id=CAMP_2026_Q3 --param start_date=2026-07-01 --param end_date=2026-07-31 \
    | sed 's/^/   /'

echo
echo "== 4. the retailer serves purchases.csv under retail.policy.json"
"$BIN" serve --listen 127.0.0.1:"${OVL_DEMO_PORT:-0}" --identity retailer.key \
    --table purchases.csv --policy retail.policy.json --audit retail.audit --new-audit-log \
    2>serve.log &
SERVER=$!
PORT=""
for _ in $(seq 1 100); do
    PORT=$(sed -n 's/.* on 127\.0\.0\.1:\([0-9]*\).*/\1/p' serve.log | head -n 1)
    [ -n "$PORT" ] && break
    kill -0 "$SERVER" 2>/dev/null || fail "serve did not start"
    sleep 0.1
done
[ -n "$PORT" ] || fail "serve did not report its port"
echo "   listening on 127.0.0.1:$PORT"

echo
echo "== 5. the advertiser runs the template: campaign CAMP_2026_Q3, purchases in July 2026"
"$BIN" run --connect 127.0.0.1:"$PORT" --identity advertiser.key --peer retailer.pub \
    --table impressions.csv --join email --normalize email \
    --policy advertiser.policy.json --audit advertiser.audit \
    --template attribution.sql --param campaign_id=CAMP_2026_Q3 \
    --param start_date=2026-07-01 --param end_date=2026-07-31 \
    --out result.csv --summary json --quiet >result.summary || fail "the template run failed"
summary_field() { sed -n "s/.*\"$1\": *\\([0-9]*\\).*/\\1/p" result.summary; }
echo "   released to the advertiser (result.csv):"
if command -v column >/dev/null; then column -s, -t <result.csv; else cat result.csv; fi | sed 's/^/     /'
echo "   $(summary_field groups_released) cells released; $(summary_field groups_suppressed) cells" \
     "of the group space (campaign x format x category x week) had fewer than" \
     "$(summary_field min_rows) matched customers: nobody saw their values"
echo "   the retailer learned only how many cells were released and received nothing"

echo
echo "== 6. part 2: an intersection, allowed by both policies, with output for the advertiser only"
"$BIN" run --connect 127.0.0.1:"$PORT" --identity advertiser.key --peer retailer.pub \
    --table impressions.csv --join email --normalize email \
    --policy advertiser.policy.json --audit advertiser.audit \
    --mode intersection --reveal connector --out matches.csv --quiet \
    || fail "the intersection run failed"
echo "   the advertiser's impression rows whose customer also buys at the retailer:" \
     "$(($(wc -l <matches.csv) - 1)) of $(($(wc -l <impressions.csv) - 1)); the first three:"
sed -n '2,4p' matches.csv | sed 's/^/     /'

stop_server
echo
echo "== 7. both audit logs verify (hash chain, signatures, the partner's co-signatures)"
"$BIN" audit verify retail.audit --key retailer.pub --peer advertiser.pub | sed 's/^/   retailer:   /'
"$BIN" audit verify advertiser.audit --key advertiser.pub --peer retailer.pub | sed 's/^/   advertiser: /'
echo "   the retailer's log:"
"$BIN" audit show retail.audit --peer advertiser.pub | sed 's/^/     /'
echo
echo "What each side learned: protocols/aggregate/SPEC.md §10 and protocols/psi/SPEC.md §7. Files: $D"

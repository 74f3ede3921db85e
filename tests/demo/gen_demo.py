#!/usr/bin/env python3
"""Writes the demo's two tables, deterministically (fixed seed, no clock):

  purchases.csv    the retailer: email, purchase_date, purchase_amount, item_count
  impressions.csv  the advertiser: email, campaign_id, ad_format, impressions

Run from the repository root: python3 tests/demo/gen_demo.py [--check] [--expect ARGS].
--check compares the committed files with what this script writes (exit 1 on a
difference); --expect CAMPAIGN START END K prints the plaintext result of
attribution.sql with those parameters and threshold K, for tests to compare
with what the clean room released.

The advertiser's customers each see one campaign in one ad format (one to
three impression rows, all in that group): today's aggregate protocol needs
disjoint groups (protocols/aggregate/SPEC.md §7). Group sizes are uneven on
purpose, so that a threshold of 20 to 25 releases the large groups and
suppresses the small ones."""
import csv
import io
import os
import random
import sys
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20260701

FIRST = ["ada", "amir", "bela", "carla", "dara", "emil", "farah", "grace", "hugo", "ines",
         "jonas", "kira", "luca", "mara", "nils", "olga", "priya", "quinn", "rosa", "sven",
         "tara", "ugo", "vera", "wim", "xena", "yara", "zeno", "noor", "ivo", "lena"]
LAST = ["smith", "lee", "garcia", "novak", "okafor", "tanaka", "muller", "rossi", "khan",
        "silva", "dubois", "jensen", "kowalski", "haddad", "ito", "meyer"]
DOMAINS = ["example.com", "mail.example.org", "shop.example.net", "post.example.de"]

# (campaign, ad format) -> how many of the advertiser's customers saw it.
GROUPS = [
    ("CAMP_2026_Q3", "video", 520), ("CAMP_2026_Q3", "banner", 330),
    ("CAMP_2026_Q3", "native", 150), ("CAMP_2026_Q3", "audio", 40),
    ("CAMP_2026_Q3", "carousel", 22),
    ("CAMP_2026_Q4", "video", 400), ("CAMP_2026_Q4", "banner", 260),
    ("CAMP_2026_Q4", "native", 60), ("CAMP_2026_Q4", "audio", 28),
]
RETAIL_ONLY = 1400    # the retailer's customers the advertiser never reached
SHOP_SHARE = 0.62     # of the advertiser's customers, the share who also buy at the retailer


def people(rng, n):
    seen, out = set(), []
    while len(out) < n:
        e = "%s.%s%d@%s" % (rng.choice(FIRST), rng.choice(LAST), rng.randrange(1, 1000),
                            rng.choice(DOMAINS))
        if e not in seen:
            seen.add(e)
            out.append(e)
    return out


def date(rng):
    # June to November 2026, so a Q3 window (July to September) keeps about half.
    month = rng.choice([6, 7, 7, 8, 8, 9, 9, 10, 11])
    return "2026-%02d-%02d" % (month, rng.randrange(1, 29))


def generate():
    rng = random.Random(SEED)
    audience_size = sum(n for _, _, n in GROUPS)
    everyone = people(rng, audience_size + RETAIL_ONLY)
    audience, others = everyone[:audience_size], everyone[audience_size:]
    impressions = [["email", "campaign_id", "ad_format", "impressions"]]
    i = 0
    for campaign, fmt, n in GROUPS:
        for e in audience[i:i + n]:
            for _ in range(rng.choice([1, 1, 2, 3])):
                impressions.append([e, campaign, fmt, str(rng.randrange(1, 40))])
        i += n
    head, body = impressions[0], impressions[1:]
    rng.shuffle(body)
    impressions = [head] + body
    shoppers = [e for e in audience if rng.random() < SHOP_SHARE] + others
    purchases = [["email", "purchase_date", "purchase_amount", "item_count"]]
    for e in shoppers:
        # Some of the retailer's records spell the address differently: the
        # email normalisation (trim, lower-case) still matches them.
        shown = e.upper() if rng.random() < 0.05 else e
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
            cents = rng.randrange(499, 32000)
            purchases.append([shown, date(rng), "%d.%02d" % (cents // 100, cents % 100),
                              str(rng.randrange(1, 7))])
    head, body = purchases[0], purchases[1:]
    body.sort(key=lambda r: (r[1], r[0]))
    return {"impressions.csv": impressions, "purchases.csv": [head] + body}


def render(rows):
    f = io.StringIO()
    w = csv.writer(f, lineterminator="\n")
    w.writerows(rows)
    return f.getvalue()


def expect(tables, campaign, start, end, k):
    """attribution.sql in plain Python: the result the clean room should release."""
    buys = {}
    for e, d, amount, _ in tables["purchases.csv"][1:]:
        if start <= d <= end:
            buys.setdefault(e.strip().lower(), []).append(Decimal(amount))
    groups = {}
    for e, c, fmt, _ in tables["impressions.csv"][1:]:
        if c == campaign and e in buys:
            groups.setdefault((c, fmt), set()).add(e)
    out = [["campaign_id", "ad_format", "matched_users", "attributed_revenue",
            "average_purchase"]]
    suppressed = 0
    for g in sorted(groups):
        if len(groups[g]) < k:
            suppressed += 1
            continue
        amounts = [a for e in groups[g] for a in buys[e]]
        total = sum(amounts)
        avg = (total / len(amounts)).quantize(Decimal("0.000001"))
        out.append([g[0], g[1], str(len(groups[g])), "%.2f" % total, str(avg)])
    return out, suppressed


def main(argv):
    tables = generate()
    if argv[1:2] == ["--expect"] and len(argv) == 6:
        rows, suppressed = expect(tables, argv[2], argv[3], argv[4], int(argv[5]))
        sys.stdout.write(render(rows))
        sys.stdout.write("# suppressed %d\n" % suppressed)
        return 0
    check = argv[1:] == ["--check"]
    if argv[1:] and not check:
        sys.stderr.write("usage: gen_demo.py [--check | --expect CAMPAIGN START END K]\n")
        return 2
    status = 0
    for name, rows in tables.items():
        path = os.path.join(HERE, name)
        text = render(rows)
        if check:
            with open(path, newline="") as f:
                if f.read() != text:
                    sys.stderr.write("gen_demo.py: %s differs from what the generator writes "
                                     "(run python3 tests/demo/gen_demo.py)\n" % path)
                    status = 1
        else:
            with open(path, "w", newline="") as f:
                f.write(text)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))

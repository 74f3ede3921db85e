#!/usr/bin/env python3
"""Writes the demo's two tables, deterministically (fixed seed, no clock), in the shape of the
reference article's attribution query (../shared/reference/):

  impressions.csv  the advertiser: email, campaign_id, ad_format, impression_count, spend_amount
  purchases.csv    the retailer: email, purchase_id, product_category, purchase_date,
                   purchase_amount, item_count

Run from the repository root: python3 tests/demo/gen_demo.py [--check] [--expect ARGS].
--check compares the committed files with what this script writes (exit 1 on a
difference); --expect CAMPAIGN START END K prints the plaintext result of
attribution.sql with those parameters and threshold K (rows in the order the clean room
releases them, SPEC §8.4), then "# suppressed N": the cells of the group space (the
advertiser's campaign x format groups times the retailer's category x week groups) that
were not released, for tests to compare with what the clean room released.

Customers see one to three ad formats of a campaign (overlapping groups: a customer counts
in each); some purchases have no purchase id (COUNT(p.purchase_id) skips them, SQL's NULL).
Group sizes are uneven on purpose, so that a threshold of 20 to 25 releases the large cells
and suppresses the small ones."""
import csv
import datetime
import io
import os
import random
import sys
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20260701

FIRST = ["ada", "amir", "bela", "carla", "dara", "emil", "farah", "grace", "hugo", "ines",
         "jonas", "kira", "luca", "mara", "nils", "olga", "priya", "quinn", "rosa", "sven",
         "tara", "ugo", "vera", "wim", "xena", "yara", "zeno", "noor", "ivo", "lena"]
LAST = ["smith", "lee", "garcia", "novak", "okafor", "tanaka", "muller", "rossi", "khan",
        "silva", "dubois", "jensen", "kowalski", "haddad", "ito", "meyer"]
DOMAINS = ["example.com", "mail.example.org", "shop.example.net", "post.example.de"]

# (campaign, its main ad format) -> how many of the advertiser's customers it reached first.
GROUPS = [
    ("CAMP_2026_Q3", "video", 900), ("CAMP_2026_Q3", "banner", 520),
    ("CAMP_2026_Q3", "native", 260), ("CAMP_2026_Q3", "audio", 70),
    ("CAMP_2026_Q4", "video", 500), ("CAMP_2026_Q4", "banner", 300),
    ("CAMP_2026_Q4", "native", 90),
]
FORMATS = ["video", "banner", "native", "audio"]
CATEGORIES = ["electronics", "home", "apparel"]
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
    # June to November 2026, half of it in July (the demo's window).
    if rng.random() < 0.5:
        return "2026-07-%02d" % rng.randrange(1, 32)
    month = rng.choice([6, 8, 9, 10, 11])
    return "2026-%02d-%02d" % (month, rng.randrange(1, 29))


def cents(c):
    return "%s%d.%02d" % ("-" if c < 0 else "", abs(c) // 100, abs(c) % 100)


def generate():
    rng = random.Random(SEED)
    audience_size = sum(n for _, _, n in GROUPS)
    everyone = people(rng, audience_size + RETAIL_ONLY)
    audience, others = everyone[:audience_size], everyone[audience_size:]
    impressions = [["email", "campaign_id", "ad_format", "impression_count", "spend_amount"]]
    i = 0
    for campaign, main, n in GROUPS:
        for e in audience[i:i + n]:
            # the main format, and sometimes one or two more of the same campaign (at most
            # 6 rows of one customer in one campaign: the policies' default is 7)
            formats = [main] + [f for f in FORMATS if f != main and rng.random() < 0.2][:2]
            for fmt in formats:
                for _ in range(rng.choice([1, 1, 2])):
                    impressions.append([e, campaign, fmt, str(rng.randrange(1, 40)),
                                        cents(rng.randrange(50, 2500))])
        i += n
    head, body = impressions[0], impressions[1:]
    rng.shuffle(body)
    impressions = [head] + body
    shoppers = [e for e in audience if rng.random() < SHOP_SHARE] + others
    purchases = [["email", "purchase_id", "product_category", "purchase_date", "purchase_amount",
                  "item_count"]]
    pid = 0
    for e in shoppers:
        # Some of the retailer's records spell the address differently: the
        # email normalisation (trim, lower-case) still matches them.
        shown = e.upper() if rng.random() < 0.05 else e
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
            pid += 1
            # a few orders were entered without an id (empty: NULL)
            ident = "" if rng.random() < 0.04 else "P%06d" % pid
            purchases.append([shown, ident, rng.choice(CATEGORIES), date(rng),
                              cents(rng.randrange(499, 32000)), str(rng.randrange(1, 7))])
    head, body = purchases[0], purchases[1:]
    body.sort(key=lambda r: (r[3], r[0]))
    return {"impressions.csv": impressions, "purchases.csv": [head] + body}


def render(rows):
    f = io.StringIO()
    w = csv.writer(f, lineterminator="\n")
    w.writerows(rows)
    return f.getvalue()


def week_of(day):
    d = datetime.date.fromisoformat(day)
    return (d - datetime.timedelta(days=d.weekday())).isoformat()


def half_even(q, digits):
    n = round(q * 10 ** digits)  # Fraction rounds half to even
    s = str(abs(n)).rjust(digits + 1, "0")
    return ("-" if n < 0 else "") + s[:-digits] + "." + s[-digits:]


def label(values):
    return b"".join(len(v.encode()).to_bytes(2, "big") + v.encode() for v in values)


def expect(tables, campaign, start, end, k):
    """attribution.sql in plain Python: the rows the clean room should release, and how many
    cells of the group space it should not."""
    shop = {}  # email -> {(category, week): [rows, ids, revenue in cents]}
    for e, ident, cat, day, amount, _ in tables["purchases.csv"][1:]:
        if start <= day <= end:
            g = shop.setdefault(e.strip().lower(), {}).setdefault((cat, week_of(day)), [0, 0, 0])
            g[0] += 1
            g[1] += ident != ""
            g[2] += int(amount.replace(".", ""))
    ads = {}  # email -> {(campaign, format): [rows, impressions, spend in cents]}
    for e, c, fmt, imps, spend in tables["impressions.csv"][1:]:
        if c == campaign:
            g = ads.setdefault(e.strip().lower(), {}).setdefault((c, fmt), [0, 0, 0])
            g[0] += 1
            g[1] += int(imps)
            g[2] += int(spend.replace(".", ""))
    runner_groups = {g for v in ads.values() for g in v}
    contrib_groups = {g for v in shop.values() for g in v}
    cells = {}
    for e, rg in ads.items():
        for cg_key, (nc, ids, rev) in shop.get(e, {}).items():
            for rg_key, (nr, imps, spend) in rg.items():
                a = cells.setdefault((rg_key, cg_key), [0, 0, 0, 0, 0])
                a[0] += 1
                a[1] += imps * nc
                a[2] += spend * nc
                a[3] += nr * ids
                a[4] += nr * rev
    out = []
    for (rg_key, cg_key), (users, imps, spend, ids, rev) in cells.items():
        if users < k:
            continue
        roas = half_even(Fraction(rev, spend), 6) if spend else ""
        out.append(((label(rg_key), label(cg_key)),
                    [rg_key[0], rg_key[1], cg_key[0], cg_key[1], str(users), str(imps),
                     cents(spend), str(ids), cents(rev), roas]))
    out.sort()
    header = ["campaign_id", "ad_format", "product_category", "purchase_week", "matched_users",
              "total_impressions", "total_spend", "attributed_purchases", "attributed_revenue",
              "roas"]
    return [header] + [r for _, r in out], len(runner_groups) * len(contrib_groups) - len(out)


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

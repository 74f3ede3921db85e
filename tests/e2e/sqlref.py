"""The reference for aggregates version 2 (protocols/aggregate/SPEC.md §1, §8.4): the rows
a plain SQL engine releases for an analysis, computed with Python's sqlite3 over the same CSVs.

An analysis is described once, as data (Analysis below), and rendered twice: as the overlap
template the parties run and as the SQLite query the reference runs. SQLite differs from the
dialect in two ways the rendering accounts for:
  - it has no DATE_TRUNC: 'day' is date(x), 'week' is date(x, '-6 days', 'weekday 1') (the
    Monday on or before x, ISO weeks), 'month' is strftime('%Y-%m-01', x);
  - it divides integers as integers and sums REALs inexactly: value columns are loaded as exact
    fixed-point integers (units of 10^-decimals, through the fx() function registered here), the
    query returns SUM and COUNT per cell, and AVG and the select list's arithmetic are computed
    here from those exact values with explicit rational division (fractions.Fraction), rounded
    half to even as the SPEC says (AVG to decimals + 4 digits, an expression with '/' to 6).
Empty CSV value cells are NULL (COUNT(col) skips them, SUM of none is NULL); a join value that
does not normalise joins nothing; rows are sorted by (runner label, contributor label) bytes,
a label being u16 length || bytes per dimension of that party, in plan order (§5.2)."""
import csv
import sqlite3
from fractions import Fraction

from e2e import norm_email

TRUNC_SQL = {
    None: "{}",
    "day": "date({})",
    "week": "date({}, '-6 days', 'weekday 1')",
    "month": "strftime('%Y-%m-01', {})",
}


class Analysis:
    """tables: {alias: (table name, join column)}, the runner's alias first in `runner`.
    dims: [(alias, column, trunc or None, output name)].
    outs: [(output name, expr)], expr one of
        ("cd",)  COUNT(DISTINCT join)   ("star",)  COUNT(*)
        ("count", alias, col)  ("sum", alias, col)  ("avg", alias, col)
        ("int", k)  ("dec", "1.5")  (op, a, b) with op in + - * /  ("nullif", a)
        ("dim", i)  dimension i (as a select-list item).
    where: [(alias, SQL condition on that alias's columns, template condition)].
    decimals: {(alias, col): d} for value columns.
    having: HAVING COUNT(DISTINCT ...) >= k (0: none)."""

    def __init__(self, tables, runner, dims, outs, decimals, where=(), having=0, params=()):
        self.tables = tables
        self.runner = runner
        self.dims = list(dims)
        self.outs = list(outs)
        self.decimals = dict(decimals)
        self.where = list(where)
        self.having = having
        self.params = list(params)

    def aliases(self):
        return list(self.tables)

    # ---- the overlap template ----
    def _tpl_expr(self, e):
        k = e[0]
        a = self.tables
        if k == "cd":
            first = self.aliases()[0]
            return f"COUNT(DISTINCT {first}.{a[first][1]})"
        if k == "star":
            return "COUNT(*)"
        if k in ("count", "sum", "avg"):
            return f"{k.upper()}({e[1]}.{e[2]})"
        if k in ("int", "dec"):
            return str(e[1])
        if k == "nullif":
            return f"NULLIF({self._tpl_expr(e[1])}, 0)"
        if k == "dim":
            return self._tpl_dim(self.dims[e[1]])
        return f"({self._tpl_expr(e[1])} {k} {self._tpl_expr(e[2])})"

    @staticmethod
    def _tpl_dim(d):
        alias, col, trunc, _ = d
        return f"DATE_TRUNC('{trunc}', {alias}.{col})" if trunc else f"{alias}.{col}"

    def template(self):
        a0, a1 = self.aliases()
        lines = [f"-- param {p}" for p in self.params]
        items = []
        dim_outputs = any(e[0] == "dim" for _, e in self.outs)
        if not dim_outputs:
            items += [f"{self._tpl_dim(d)} AS {d[3]}" for d in self.dims]
        for name, e in self.outs:
            items.append(f"{self._tpl_expr(e)} AS {name}")
        lines.append("SELECT " + ",\n       ".join(items))
        lines.append(f"FROM {self.tables[a0][0]} AS {a0}")
        lines.append(f"INNER JOIN {self.tables[a1][0]} AS {a1} "
                     f"ON {a0}.{self.tables[a0][1]} = {a1}.{self.tables[a1][1]}")
        if self.where:
            lines.append("WHERE " + " AND ".join(w[2] for w in self.where))
        if self.dims:
            lines.append("GROUP BY " + ", ".join(self._tpl_dim(d) for d in self.dims))
        if self.having:
            lines.append(f"HAVING COUNT(DISTINCT {a0}.{self.tables[a0][1]}) >= {self.having}")
        return "\n".join(lines) + ";\n"

    # ---- the output rows ----
    def header(self):
        if any(e[0] == "dim" for _, e in self.outs):
            return [n for n, _ in self.outs]
        return [d[3] for d in self.dims] + [n for n, _ in self.outs]


def _fx(decimals):
    def fx(text):
        if text is None:
            return None
        v = Fraction(text.strip()) * 10 ** decimals
        if v.denominator != 1:
            raise ValueError("more decimals than declared")
        return int(v)
    return fx


def _load(db, alias, path, value_cols):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    cols = ", ".join(f'"{h}"' for h in header)
    db.execute(f'CREATE TABLE "{alias}" ({cols})')
    for r in body:
        vals = [None if (h in value_cols and v.strip() == "") else v for h, v in zip(header, r)]
        db.execute(f'INSERT INTO "{alias}" VALUES ({", ".join("?" * len(header))})', vals)


def _collect(e, acc):
    if e[0] in ("count", "sum", "avg"):
        acc.add((e[1], e[2]))
    for x in e[1:]:
        if isinstance(x, tuple):
            _collect(x, acc)


def _has_div(e):
    return e[0] == "/" or any(isinstance(x, tuple) and _has_div(x) for x in e[1:])


def round_half_even(q, digits):
    """q (a Fraction) rounded half to even to `digits` fractional digits, as text."""
    scaled = q * 10 ** digits
    n = round(scaled)  # Fraction.__round__ rounds half to even
    sign = "-" if n < 0 else ""
    n = abs(n)
    if digits == 0:
        return f"{sign}{n}"
    s = str(n).rjust(digits + 1, "0")
    return f"{sign}{s[:-digits]}.{s[-digits:]}"


def _natural_decimals(e, dec):
    k = e[0]
    if k in ("sum", "avg"):
        return dec[(e[1], e[2])] + (4 if k == "avg" else 0)
    if k == "dec":
        s = str(e[1])
        return len(s.split(".")[1]) if "." in s else 0
    if k in ("cd", "star", "count", "int"):
        return 0
    if k == "nullif":
        return _natural_decimals(e[1], dec)
    if k == "*":
        return _natural_decimals(e[1], dec) + _natural_decimals(e[2], dec)
    return max(_natural_decimals(e[1], dec), _natural_decimals(e[2], dec))


class Reference:
    """Runs an Analysis over two CSVs with sqlite3. norm: the identifier normalisation."""

    def __init__(self, an, paths, min_rows, norm=norm_email):
        self.an = an
        self.paths = paths          # {alias: csv path}
        self.min_rows = min_rows    # {alias: policy or command-line min_rows}
        self.norm = norm

    def threshold(self):
        return max([self.an.having, 2] + list(self.min_rows.values()))

    def _query(self, cols):
        an = self.an
        a0, a1 = an.aliases()
        sel = []
        for alias, col, trunc, _ in an.dims:
            sel.append(TRUNC_SQL[trunc].format(f'{alias}."{col}"'))
        sel.append(f"COUNT(DISTINCT {a0}.nid)")
        sel.append("COUNT(*)")
        for alias, col in cols:
            sel.append(f"COUNT({alias}.\"{col}\")")
            if (alias, col) not in an.decimals:  # counted only: any text
                sel += ["NULL", "NULL"]
                continue
            fx = f"fx{an.decimals[(alias, col)]}({alias}.\"{col}\")"
            sel.append(f"SUM({fx})")
            # SQLite's own AVG over REAL, only to cross-check the exact one.
            sel.append(f"AVG(CAST({fx} AS REAL))")
        q = f"SELECT {', '.join(sel)} FROM (SELECT *, norm({a0}.\"{an.tables[a0][1]}\") AS nid " \
            f"FROM \"{a0}\" AS {a0}) AS {a0} INNER JOIN (SELECT *, norm({a1}.\"{an.tables[a1][1]}\")" \
            f" AS nid FROM \"{a1}\" AS {a1}) AS {a1} ON {a0}.nid = {a1}.nid"
        if an.where:
            q += " WHERE " + " AND ".join(f"({w[1]})" for w in an.where)
        if an.dims:
            q += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(an.dims)))
        return q

    def cells(self):
        """Every non-empty cell of the join: [(dims tuple, {"cd", "star", (alias, col): (count,
        sum, sqlite avg)})], released and suppressed alike."""
        an = self.an
        cols = set()
        for _, e in an.outs:
            _collect(e, cols)
        cols = sorted(cols)
        db = sqlite3.connect(":memory:")
        db.create_function("norm", 1, lambda v: self.norm(v) if v is not None else None)
        for d in range(19):
            db.create_function(f"fx{d}", 1, _fx(d))
        for alias in an.aliases():
            vc = {c for (a, c) in cols if a == alias}
            _load(db, alias, self.paths[alias], vc)
        out = []
        nd = len(an.dims)
        for row in db.execute(self._query(cols)):
            dims, rest = tuple(row[:nd]), row[nd:]
            vals = {"cd": rest[0], "star": rest[1]}
            for i, c in enumerate(cols):
                vals[c] = tuple(rest[2 + 3 * i: 5 + 3 * i])
            if vals["cd"] > 0:
                out.append((dims, vals))
        db.close()
        return out

    def _value(self, e, dims, v):
        """The exact value of expr e in a cell (Fraction, or None for NULL)."""
        k = e[0]
        dec = self.an.decimals
        if k == "cd":
            return Fraction(v["cd"])
        if k == "star":
            return Fraction(v["star"])
        if k in ("count", "sum", "avg"):
            n, s, _ = v[(e[1], e[2])]
            if k == "count":
                return Fraction(n)
            if n == 0:
                return None
            total = Fraction(s, 10 ** dec.get((e[1], e[2]), 0))
            return total if k == "sum" else total / n
        if k in ("int", "dec"):
            return Fraction(str(e[1]))
        if k == "nullif":
            x = self._value(e[1], dims, v)
            return None if x == 0 else x
        a, b = self._value(e[1], dims, v), self._value(e[2], dims, v)
        if a is None or b is None:
            return None
        if k == "+":
            return a + b
        if k == "-":
            return a - b
        if k == "*":
            return a * b
        return None if b == 0 else a / b

    def _field(self, e, dims, v):
        k = e[0]
        dec = self.an.decimals
        if k == "dim":
            return dims[e[1]]
        x = self._value(e, dims, v)
        if x is None:
            return ""
        if k in ("cd", "star", "count", "int"):
            return str(x.numerator)
        if k == "sum":
            return round_half_even(x, dec.get((e[1], e[2]), 0))
        if k == "avg":
            return round_half_even(x, dec.get((e[1], e[2]), 0) + 4)
        if _has_div(e):
            return round_half_even(x, 6)
        return round_half_even(x, _natural_decimals(e, dec))

    def _label(self, dims, alias):
        b = b""
        for (a, _, _, _), val in zip(self.an.dims, dims):
            if a == alias:
                raw = val.encode()
                b += len(raw).to_bytes(2, "big") + raw
        return b

    def rows(self):
        """(header, released rows as lists of strings in output order, suppressed count)."""
        an = self.an
        t = self.threshold()
        other = [a for a in an.aliases() if a != an.runner][0]
        released, suppressed = [], 0
        dim_outputs = any(e[0] == "dim" for _, e in an.outs)
        for dims, v in self.cells():
            if v["cd"] < t:
                suppressed += 1
                continue
            fields = [] if dim_outputs else [str(d) for d in dims]
            fields += [self._field(e, dims, v) for _, e in an.outs]
            key = (self._label(dims, an.runner), self._label(dims, other))
            released.append((key, fields))
        released.sort(key=lambda kv: kv[0])
        return an.header(), [f for _, f in released], suppressed

    def sqlite_avg_agrees(self):
        """SQLite's own REAL AVG and the exact one agree to 1e-9 relative: the fixed-point
        loading did not change what SQL means."""
        for _, v in self.cells():
            for key, val in v.items():
                if not isinstance(key, tuple):
                    continue
                n, s, avg = val
                if s is None and avg is None and n > 0:
                    continue  # a counted-only column
                if n == 0:
                    if avg is not None:
                        return False
                    continue
                if abs(avg - s / n) > 1e-9 * max(1.0, abs(s / n)):
                    return False
        return True

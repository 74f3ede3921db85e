#!/usr/bin/env python3
"""Writes the manual page overlap.1 from the program's own help texts, so the
two cannot disagree: `overlap --help` gives the name, synopsis, description
and command list, `overlap <command> --help` each command's section.

usage: gen_man.py OVERLAP_BINARY > overlap.1"""
import re
import subprocess
import sys


def helptext(binary, *args):
    r = subprocess.run([binary, *args, "--help"], capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.strip():
        sys.exit("gen_man.py: %s %s --help failed (exit %d)" % (binary, " ".join(args),
                                                                 r.returncode))
    return r.stdout


def roff_line(line):
    """One line of text, safe for roff: backslashes escaped, no leading control character."""
    line = line.replace("\\", "\\e")
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line


def verbatim(text):
    out = [".nf"]
    for line in text.rstrip("\n").split("\n"):
        out.append(roff_line(line) if line.strip() else "")
    out.append(".fi")
    return out


def paragraphs(text):
    out = []
    for para in re.split(r"\n\s*\n", text.strip()):
        out.append(".PP")
        out.extend(roff_line(l.strip()) for l in para.split("\n"))
    return out


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__.strip().split("\n")[-1])
    binary = argv[1]
    top = helptext(binary)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split()
    version = version[1] if len(version) > 1 else "unknown"
    title, _, rest = top.partition("\n")
    name_desc = title.split(" - ", 1)[-1].strip()
    # The top help: description paragraphs, then "usage:", "commands:" and
    # further "heading:" sections, each kept in order.
    sections = re.split(r"^([a-z][a-z ()]*):[ \t]*", rest, flags=re.M)
    description = sections[0]
    named = list(zip(sections[1::2], sections[2::2]))
    commands = []
    for head, body in named:
        if head == "commands":
            commands = [l.split()[0] for l in body.split("\n") if l.startswith("  ") and l.strip()]
    if not commands:
        sys.exit("gen_man.py: `overlap --help` lists no commands")
    out = ['.TH OVERLAP 1 "" "overlap %s" "User Commands"' % version,
           ".SH NAME", "overlap \\- " + roff_line(name_desc),
           ".SH SYNOPSIS"]
    usage = next((b for h, b in named if h == "usage"), "overlap <command> [options]")
    out += verbatim(usage.strip())
    out += [".SH DESCRIPTION"] + paragraphs(description)
    for head, body in named:
        if head == "usage":
            continue
        out += [".SH " + roff_line(head.upper())] + verbatim(body.strip("\n"))
    out.append(".SH COMMAND REFERENCE")
    for cmd in commands:
        out += [".SS overlap " + cmd] + verbatim(helptext(binary, cmd))
    out += [".SH SEE ALSO",
            "README.md and protocols/*/SPEC.md in the source tree (what each party learns)."]
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Print the rule results of an XCCDF 1.2 results file (from `oscap xccdf eval --results`) as JSON.

The results file written by oscap for a data stream contains the whole Benchmark followed by a
TestResult, so rule titles are looked up in the same file. Rules whose result is "notselected"
(not part of the evaluated profile) are skipped unless --all is given.

Usage: extract.py RESULTS.xml [--all] [--counts]
  --counts  print "pass=.. fail=.. notapplicable=.. error=.. notchecked=.." instead of JSON
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from typing import TypedDict

NS = "{http://checklists.nist.gov/xccdf/1.2}"
COUNTED = ("pass", "fail", "notapplicable", "error", "notchecked")


class RuleResult(TypedDict):
    id: str
    result: str
    title: str | None


def rule_results(path: str, include_notselected: bool = False) -> list[RuleResult]:
    root = ET.parse(path).getroot()
    titles: dict[str, str] = {}
    for rule in root.iter(f"{NS}Rule"):
        title = rule.find(f"{NS}title")
        if title is not None and title.text:
            titles[rule.get("id", "")] = " ".join(title.text.split())
    # The last TestResult is the one of this evaluation.
    test_results = list(root.iter(f"{NS}TestResult"))
    if not test_results:
        raise SystemExit(f"{path}: no XCCDF 1.2 TestResult element")
    out: list[RuleResult] = []
    for rr in test_results[-1].iter(f"{NS}rule-result"):
        result = rr.findtext(f"{NS}result", default="")
        if result == "notselected" and not include_notselected:
            continue
        rule_id = rr.get("idref", "")
        out.append({"id": rule_id, "result": result, "title": titles.get(rule_id)})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="XCCDF results XML written by oscap --results")
    parser.add_argument("--all", action="store_true", help="include notselected rules")
    parser.add_argument("--counts", action="store_true", help="print result counts only")
    args = parser.parse_args(argv)
    results = rule_results(args.results, include_notselected=args.all)
    if args.counts:
        counts = Counter(r["result"] for r in results)
        others = sorted(set(counts) - set(COUNTED) - {"notselected"})
        print(" ".join(f"{k}={counts[k]}" for k in (*COUNTED, *others)))
    else:
        json.dump(results, sys.stdout, indent=1)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Lints Herald's operations files; run by ops/test.sh, exits 1 on any finding.

The dashboard (ops/grafana/herald.json):
- the variables datasource (a Prometheus data source), chain and instance; the rows Health, Progress,
  Backpressure and Errors;
- every panel has a unit (fieldConfig.defaults.unit), a description, queries on the ${datasource} variable, and
  each query filters by $instance;
- every query (panels, annotations, variables) is valid PromQL: Grafana's variables are replaced by valid values,
  the queries written to a temporary rules file as recording rules and checked with `promtool check rules`, which
  parses and type-checks them.

The rules (ops/prometheus/*.yml) and the dashboard together:
- every metric they name is in ops/metrics.txt (what a node exposes) or recorded by ops/prometheus/recording.yml;
- every alert has a severity (warning or critical), a summary, a description and a runbook_url whose anchor is a
  heading of docs/operations.md;
- every alert has a firing and a not-firing case in ops/prometheus/tests/, every recording rule an expression test.

Needs PyYAML (Debian: python3-yaml) and promtool (Debian: prometheus).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

REQUIRED_ROWS = ["health", "progress", "backpressure", "errors"]
SEVERITIES = {"warning", "critical"}
DATASOURCE_UID = "${datasource}"
# Series of a histogram family (ops/metrics.txt lists families, as the scrape's `# TYPE` lines do).
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

# PromQL words that look like metric names: operators, modifiers, aggregations (which may be followed by
# `by (...)` rather than a parenthesis), and the float literals.
KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
    "inf", "nan", "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
    "topk", "quantile", "limitk", "limit_ratio",
}

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
findings = []


def finding(message):
    if message not in findings:
        findings.append(message)


def rel(path):
    """A path as the repository names it."""
    return os.path.relpath(path, ROOT)


# ---------------------------------------------------------------------------------------------------- PromQL


def substitute_grafana_variables(expr):
    """Grafana's variables replaced by values that keep the query valid PromQL (interval ones by durations)."""
    durations = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h", "__range_s": "3600",
                 "__range_ms": "3600000", "__interval_ms": "60000"}

    def value(name):
        return durations.get(name, "placeholder")

    expr = re.sub(r"\$\{(\w+)(?::[^}]*)?\}", lambda m: value(m.group(1)), expr)
    expr = re.sub(r"\[\[(\w+)(?::[^\]]*)?\]\]", lambda m: value(m.group(1)), expr)
    return re.sub(r"\$(\w+)", lambda m: value(m.group(1)), expr)


def metric_names(expr):
    """The metric names an expression selects (no full parser: strings, matchers, ranges and label lists are
    removed first, then every identifier that is not a function call or a keyword is a metric name)."""
    if "__name__" in expr:
        finding(f"query selects by __name__, which this lint can't check; name the metric: {expr!r}")
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", r" \1 ", text)
    names = set()
    for match in re.finditer(r"(?<![\w:.])[A-Za-z_:][\w:]*", text):
        name = match.group(0)
        if name.lower() in KEYWORDS or re.match(r"\s*\(", text[match.end():]):
            continue
        names.add(name)
    return names


def check_promql(queries, promtool):
    """queries: (where, expr) pairs. Writes them as recording rules and lets promtool parse and type-check them."""
    rules, places = [], {}
    for index, (where, expr) in enumerate(queries):
        record = f"lint:query_{index}"
        places[record] = where
        rules.append({"record": record, "expr": expr})
    with tempfile.NamedTemporaryFile("w", suffix=".yml", prefix="herald-dashboard-", delete=False) as file:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, file, sort_keys=False)
        path = file.name
    try:
        result = subprocess.run([promtool, "check", "rules", path], capture_output=True, text=True)
    finally:
        os.unlink(path)
    if result.returncode != 0:
        output = result.stdout + result.stderr
        named = set(re.findall(r'"(lint:query_\d+)"', output))
        for record in sorted(named, key=lambda r: int(r.rsplit("_", 1)[1])):
            line = next(line for line in output.splitlines() if f'"{record}"' in line)
            finding(f"{places[record]}: invalid PromQL: {line.split(': ', 2)[-1]}")
        if not named:
            finding(f"promtool check rules failed on the dashboard's queries:\n{output}")


# ---------------------------------------------------------------------------------------------------- Dashboard


def check_dashboard(path):
    """Returns (where, expr) of every query, after the structural checks."""
    with open(path) as file:
        dashboard = json.load(file)
    queries = []
    name = rel(path)

    if not 36 <= dashboard.get("schemaVersion", 0) <= 41:
        finding(f"{name}: schemaVersion {dashboard.get('schemaVersion')} (expected about 39)")

    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    datasource = variables.get("datasource")
    if not datasource or datasource.get("type") != "datasource" or datasource.get("query") != "prometheus":
        finding(f"{name}: no variable `datasource` of type datasource for prometheus")
    for var in ("chain", "instance"):
        if var not in variables:
            finding(f"{name}: no variable `{var}`")
    for var in variables.values():
        if var.get("type") != "query":
            continue
        query = var.get("query")
        query = query.get("query", "") if isinstance(query, dict) else query or ""
        where = f"{name}: variable {var.get('name')}"
        if var.get("datasource", {}).get("uid") != DATASOURCE_UID:
            finding(f"{where}: its data source is not {DATASOURCE_UID}")
        selector = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", query, re.S)
        inner = re.fullmatch(r"\s*query_result\((.*)\)\s*", query, re.S)
        if selector or inner:
            queries.append((where, (selector or inner).group(1)))
        elif not re.fullmatch(r"\s*label_values\(\s*\w+\s*\)\s*", query):
            finding(f"{where}: query {query!r} is not label_values(...) or query_result(...)")

    for annotation in dashboard.get("annotations", {}).get("list", []):
        if annotation.get("expr"):
            queries.append((f"{name}: annotation {annotation.get('name')!r}", annotation["expr"]))

    panels = []
    for panel in dashboard.get("panels", []):
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # the panels of collapsed rows
    rows = [p.get("title", "").strip().lower() for p in panels if p.get("type") == "row"]
    for row in REQUIRED_ROWS:
        if row not in rows:
            finding(f"{name}: no row {row.capitalize()!r}")
    ids = [p.get("id") for p in panels]
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}, key=str):
        finding(f"{name}: panel id {duplicate} is used twice")

    for panel in panels:
        if panel.get("type") == "row":
            continue
        where = f"{name}: panel {panel.get('id')} {panel.get('title')!r}"
        if not str(panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")).strip():
            finding(f"{where}: no unit (fieldConfig.defaults.unit)")
        if not str(panel.get("description", "")).strip():
            finding(f"{where}: no description")
        if panel.get("datasource", {}).get("uid") != DATASOURCE_UID:
            finding(f"{where}: its data source is not {DATASOURCE_UID}")
        targets = panel.get("targets", [])
        if not targets:
            finding(f"{where}: no query")
        for target in targets:
            there = f"{where} query {target.get('refId')}"
            expr = target.get("expr", "")
            if not expr.strip():
                finding(f"{there}: empty query")
                continue
            if target.get("datasource", {}).get("uid") != DATASOURCE_UID:
                finding(f"{there}: its data source is not {DATASOURCE_UID}")
            if "$instance" not in expr:
                finding(f'{there}: not filtered by the instance variable (instance=~"$instance")')
            queries.append((there, expr))
    return [(where, substitute_grafana_variables(expr)) for where, expr in queries]


# ---------------------------------------------------------------------------------------------------- Rules


def load_rules(paths):
    rules = []
    for path in paths:
        with open(path) as file:
            document = yaml.safe_load(file) or {}
        for group in document.get("groups", []):
            for rule in group.get("rules", []):
                rules.append((rel(path), group.get("name"), rule))
    return rules


def github_anchors(markdown_path):
    """The anchors GitHub gives the headings of a Markdown file (lower case, punctuation dropped, spaces to -)."""
    anchors = set()
    in_code = False
    with open(markdown_path) as file:
        for line in file:
            if line.lstrip().startswith("```"):
                in_code = not in_code
            heading = None if in_code else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
            if heading:
                text = re.sub(r"`|\*|_(?=\W)|(?<=\W)_", "", heading.group(1).strip().lower())
                anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\- ]", "", text)))
    return anchors


def check_rules(rules, anchors, runbook, tests):
    for path, group, rule in rules:
        if "alert" not in rule:
            continue
        where = f"{path}: alert {rule['alert']} ({rule.get('labels', {}).get('severity')}, group {group})"
        severity = rule.get("labels", {}).get("severity")
        if severity not in SEVERITIES:
            finding(f"{where}: severity {severity!r}, expected one of {sorted(SEVERITIES)}")
        annotations = rule.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            if not str(annotations.get(key, "")).strip():
                finding(f"{where}: no {key} annotation")
        url = annotations.get("runbook_url", "")
        if url:
            page, _, anchor = url.partition("#")
            if not page.endswith(os.path.basename(runbook)) or anchor not in anchors:
                finding(f"{where}: runbook_url {url!r} is not a section of {rel(runbook)}")

    firing, quiet, tested_exprs = set(), set(), []
    for path in tests:
        with open(path) as file:
            document = yaml.safe_load(file) or {}
        for test in document.get("tests", []):
            for case in test.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else quiet).add(case.get("alertname"))
            tested_exprs.extend(case.get("expr", "") for case in test.get("promql_expr_test", []))
    for alert in sorted({rule["alert"] for _, _, rule in rules if "alert" in rule}):
        if alert not in firing:
            finding(f"alert {alert}: no test in {rel(os.path.dirname(tests[0]))} where it fires")
        if alert not in quiet:
            finding(f"alert {alert}: no test in {rel(os.path.dirname(tests[0]))} where it does not fire")
    for _, _, rule in rules:
        if "record" in rule and not any(rule["record"] in metric_names(expr) for expr in tested_exprs):
            finding(f"recording rule {rule['record']}: no promql_expr_test in {rel(os.path.dirname(tests[0]))}")


# ---------------------------------------------------------------------------------------------------- Main


def main():
    ops = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dashboard", default=os.path.join(ops, "grafana", "herald.json"))
    parser.add_argument("--metrics", default=os.path.join(ops, "metrics.txt"))
    parser.add_argument("--rules", nargs="+", default=[os.path.join(ops, "prometheus", f)
                                                       for f in ("recording.yml", "alerts.yml")])
    parser.add_argument("--tests", default=os.path.join(ops, "prometheus", "tests"))
    parser.add_argument("--runbook", default=os.path.join(ROOT, "docs", "operations.md"))
    parser.add_argument("--promtool", default=os.environ.get("PROMTOOL", "promtool"))
    args = parser.parse_args()

    with open(args.metrics) as file:
        exposed = {line.split("#")[0].strip() for line in file} - {""}
    rules = load_rules(args.rules)
    recorded = {rule["record"] for _, _, rule in rules if "record" in rule}
    known = exposed | recorded

    queries = check_dashboard(args.dashboard)
    check_promql(queries, args.promtool)
    rule_queries = [(f"{path}: " + (f"alert {rule['alert']} ({rule.get('labels', {}).get('severity')})" if "alert" in rule
                                   else f"record {rule.get('record')}"), rule["expr"]) for path, _, rule in rules]
    for where, expr in queries + rule_queries:
        for name in sorted(metric_names(expr)):
            base = next((name[: -len(s)] for s in HISTOGRAM_SUFFIXES if name.endswith(s)), None)
            if name not in known and (base not in exposed or base.endswith("_total")):
                finding(f"{where}: metric {name} is not in {rel(args.metrics)} (nor recorded)")

    tests = sorted(os.path.join(args.tests, f) for f in os.listdir(args.tests) if f.endswith((".yml", ".yaml")))
    check_rules(rules, github_anchors(args.runbook), args.runbook, tests)

    for message in findings:
        print(f"lint: {message}", file=sys.stderr)
    if findings:
        print(f"lint: {len(findings)} finding(s)", file=sys.stderr)
        return 1
    panels = sum(1 for where, _ in queries if " panel " in where)
    print(f"lint: {panels} panel queries, {len(queries) - panels} other dashboard queries and {len(rules)} rules: "
          f"valid PromQL, known metrics; every alert has a runbook section and tests")
    return 0


if __name__ == "__main__":
    sys.exit(main())

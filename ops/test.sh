#!/usr/bin/env bash
# Tests the operations files (run by scripts/test.sh; alone: ops/test.sh). No node needed, a few seconds:
# - the Prometheus rules parse (promtool check rules) and behave (promtool test rules: ops/prometheus/tests);
# - the Alertmanager example is valid (amtool check-config), routes by severity, and its inhibit rules silence
#   what they should, checked against a real Alertmanager on 127.0.0.1;
# - ops/lint_dashboard.py: every dashboard panel has a unit and a description, every query is valid PromQL, every
#   metric the rules and the dashboard name is in ops/metrics.txt, every alert has a runbook section and tests.
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"
cd "$HERALD_ROOT/ops"

for tool in promtool amtool prometheus-alertmanager; do
	command -v "$tool" >/dev/null ||
		die "$tool is not installed: run scripts/setup.sh (Debian packages prometheus and prometheus-alertmanager)"
done
# The lint reads YAML: the first Python that has PyYAML (Debian: python3-yaml).
python=""
for candidate in "$HERALD_VENV/bin/python" python3 /usr/bin/python3; do
	if "$candidate" -c 'import yaml' 2>/dev/null; then
		python=$candidate
		break
	fi
done
[ -n "$python" ] || die "no Python with PyYAML: install python3-yaml (apt) or PyYAML in $HERALD_VENV"

# Runs a command quietly; on failure shows all it said (amtool, for one, explains a failure on stdout) and fails.
quiet() {
	local output
	output=$("$@" 2>&1) || {
		printf '%s\n' "$output" >&2
		die "failed: $*"
	}
}

log "ops: promtool check rules"
quiet promtool check rules prometheus/recording.yml prometheus/alerts.yml
log "ops: promtool test rules"
quiet promtool test rules prometheus/tests/*.yml

log "ops: amtool check-config, routes"
quiet amtool check-config alertmanager/alertmanager.yml
for route in critical=pager warning=chat; do
	got=$(amtool config routes test --config.file=alertmanager/alertmanager.yml "severity=${route%%=*}" 2>/dev/null)
	[ "$got" = "${route#*=}" ] || die "alertmanager.yml routes severity=${route%%=*} to '$got', not '${route#*=}'"
done

log "ops: inhibit rules, against a real Alertmanager"
workdir=$(mktemp -d)
am_pid=""
cleanup() {
	[ -z "$am_pid" ] || kill "$am_pid" 2>/dev/null || true
	[ -z "$am_pid" ] || wait "$am_pid" 2>/dev/null || true
	rm -rf "$workdir"
}
trap cleanup EXIT
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
prometheus-alertmanager --config.file=alertmanager/alertmanager.yml --storage.path="$workdir" \
	--web.listen-address="127.0.0.1:$port" --cluster.listen-address= --log.level=warn >"$workdir/log" 2>&1 &
am_pid=$!
for _ in $(seq 100); do
	curl -sf "$url/-/ready" >/dev/null 2>&1 && break
	kill -0 "$am_pid" 2>/dev/null || die "Alertmanager did not start: $(cat "$workdir/log")"
	sleep 0.1
done
curl -sf "$url/-/ready" >/dev/null || die "Alertmanager did not answer on $url within 10 s"
# One scenario per node; the script posts the alerts, then waits (the inhibitor learns of alerts asynchronously)
# until each one's state is as expected.
"$python" - "$url" <<'EOF'
import json, sys, time, urllib.request

url = sys.argv[1]
# (instance, alertname, severity, suppressed?)
expected = [
    # Finality stalls: the sink's lag and stall alerts are silent, its full journal is not.
    ("n1", "BlockFinalizationSlow", "warning", False),
    ("n1", "KafkaSinkLagHigh", "warning", True),
    ("n1", "KafkaShippingStalled", "critical", True),
    ("n1", "KafkaSinkJournalFull", "warning", False),
    # Finality stalls on n1 only: n2's lag is its own.
    ("n2", "KafkaSinkLagHigh", "warning", False),
    # Unreachable brokers explain a sink down.
    ("n3", "KafkaBrokersUnreachable", "warning", False),
    ("n3", "KafkaSinkDown", "critical", True),
    # A critical alert silences its warning.
    ("n4", "KafkaSinkDown", "critical", False),
    ("n4", "KafkaSinkDown", "warning", True),
    # A sink stopped for good is one incident.
    ("n5", "KafkaSinkStopped", "critical", False),
    ("n5", "KafkaShippingStalled", "warning", True),
]
alerts = [{"labels": {"alertname": name, "severity": severity, "instance": instance, "chain": "dev"}}
          for instance, name, severity, _ in expected]
request = urllib.request.Request(f"{url}/api/v2/alerts", json.dumps(alerts).encode(),
                                 {"Content-Type": "application/json"})
urllib.request.urlopen(request, timeout=5).read()
deadline = time.time() + 10
while True:
    with urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=5) as response:
        got = {(a["labels"]["instance"], a["labels"]["alertname"], a["labels"]["severity"]):
               bool(a["status"]["inhibitedBy"]) for a in json.load(response)}
    wrong = [(i, n, s, want) for i, n, s, want in expected if got.get((i, n, s)) != want]
    if not wrong:
        break
    if time.time() > deadline:
        for instance, name, severity, want in wrong:
            print(f"{name} ({severity}) on {instance}: expected {'inhibited' if want else 'active'}, got "
                  f"{ {True: 'inhibited', False: 'active', None: 'missing'}[got.get((instance, name, severity))] }",
                  file=sys.stderr)
        sys.exit("alertmanager.yml's inhibit rules do not silence what they should")
    time.sleep(0.1)
EOF

log "ops: dashboard and metric names (ops/lint_dashboard.py)"
"$python" lint_dashboard.py

#!/usr/bin/env bash
# Fuzzes Lectern's JSON API with Schemathesis, from its own OpenAPI document.
#
#   tests/python/schemathesis_run.sh URL ADMIN_PASSWORD
#   e.g. tests/python/schemathesis_run.sh http://127.0.0.1:8480 "$PW"
#
# Run it against a throwaway instance (`lectern up --demo --data-dir $(mktemp -d)`):
# it creates, changes and deletes demo data. It signs in as `admin`, then runs
# the examples, coverage and fuzzing phases with a fixed seed and checks that no
# call answers 5xx and that every answer is in the document (status code,
# content type, body schema, headers). The run is bounded by the clock
# (--max-time), not by a case count: on 2 cores the coverage phase alone takes
# 55 s when the machine is idle and over 200 s while cargo builds, so a fixed
# count cannot promise the 4 minutes. Under --max-time Schemathesis shares the
# budget between the operations and phases and repeats fuzzing (ST_EXAMPLES
# cases per operation a cycle) until the budget is spent. The seed fixes which
# cases are generated, in which order; how many of them run depends on the
# machine's speed. Exit status: 0 when every check passed, non-zero otherwise.
#
# Environment:
#   SCHEMATHESIS   the CLI (default: schemathesis on PATH; see requirements-fuzz.txt)
#   ST_MAX_TIME    seconds for Schemathesis (default 200; the script adds ~5 s)
#   ST_EXAMPLES    fuzzing cases per operation and cycle (default 30)
#   ST_SEED        Hypothesis seed (default 20251207)
#   ST_WORKERS     concurrent workers (default 2)
#   ST_REPORT_DIR  where the JUnit and NDJSON reports go (default: a new temp dir)
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 URL ADMIN_PASSWORD" >&2
    exit 2
fi
url=${1%/}
password=$2
st=${SCHEMATHESIS:-schemathesis}
max_time=${ST_MAX_TIME:-200}
examples=${ST_EXAMPLES:-30}
seed=${ST_SEED:-20251207}
workers=${ST_WORKERS:-2}
report_dir=${ST_REPORT_DIR:-$(mktemp -d -t lectern-schemathesis.XXXXXX)}
mkdir -p "$report_dir" && report_dir=$(cd "$report_dir" && pwd)

# Sign in as the district admin: a bearer token reaches every operation.
login_body=$(python3 -c 'import json, sys; print(json.dumps({"staff": {"username": "admin", "password": sys.argv[1]}}))' "$password")
token=$(curl -fsS -X POST "$url/api/lectern.gateway.v1.GatewayService/Login" \
    -H 'Content-Type: application/json' -d "$login_body" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["accessToken"])') || {
    echo "sign-in as admin at $url failed" >&2
    exit 2
}

excluded=(
    # Ends the session of the caller's token: every later call would be 401.
    --exclude-operation-id IdentityService_Logout
    # Switches the signing key for the whole instance.
    --exclude-operation-id IdentityService_RotateSigningKey
    # Schemathesis reuses ids it saw in earlier answers (ListStaffAccounts): it
    # could disable the admin account itself.
    --exclude-operation-id IdentityService_SetStaffAccountDisabled
    # Disables self-service devices other testers and kiosks use.
    --exclude-operation-id IdentityService_DisableDevice
    # Changing the admin's password breaks this run's later sign-ins and everyone else's.
    --exclude-operation-id IdentityService_ChangePassword
    # Wrong passwords for a username learned from ListStaffAccounts (`admin`)
    # count towards the account lockout (5 in a row): admin sign-ins would be
    # refused for everyone for the lockout period.
    --exclude-operation-id GatewayService_Login
    # Erases readers for good (right to erasure), with ids learned from ListReaders.
    --exclude-operation-id ReaderService_EraseReader
    # Promotes every class and graduates the last year: one-way, district-wide.
    --exclude-operation-id SchoolYearService_ApplyYearEnd
    # File uploads and downloads (multipart in, octet-stream out) are streaming
    # endpoints with their own tests; an ImportRoster could also rewrite the roster.
    --exclude-path-regex '^/api/(upload|download)/'
)

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance

echo "schemathesis against $url: ${max_time}s, $examples cases per operation and cycle, seed $seed, $workers workers; reports in $report_dir"
start=$(date +%s)
status=0
# Run from the report directory: Schemathesis keeps a cache in ./.schemathesis.
# `timeout` is only a safety net should --max-time overrun (a hung request).
(
    cd "$report_dir"
    exec timeout --signal=INT --kill-after=15 $((max_time + 30)) \
        "$st" run "$url/api/openapi.json" \
        --url "$url" \
        --header "Authorization: Bearer $token" \
        --checks "$checks" \
        --phases examples,coverage,fuzzing \
        --max-time "$max_time" \
        --max-examples "$examples" \
        --seed "$seed" \
        --generation-database none \
        --workers "$workers" \
        --request-timeout 10 \
        --continue-on-failure \
        --suppress-health-check too_slow,filter_too_much \
        --no-color \
        --report junit,ndjson --report-dir "$report_dir" \
        "${excluded[@]}"
) || status=$?
elapsed=$(($(date +%s) - start))

# A short summary from the reports: operations failing, and the answers seen
# (few 200s means the fuzzing mostly hit input validation).
echo
python3 - "$report_dir" <<'PY' || true
import collections, glob, json, sys, xml.etree.ElementTree as ET
report_dir = sys.argv[1]
for path in sorted(glob.glob(f"{report_dir}/junit-*.xml"))[-1:]:
    cases = ET.parse(path).getroot().iter("testcase")
    failing = [case.get("name") for case in cases if case.find("failure") is not None or case.find("error") is not None]
    print(f"operations failing: {len(failing)}")
    for name in failing:
        print(f"  {name}")
statuses, answered = collections.Counter(), set()
for path in sorted(glob.glob(f"{report_dir}/ndjson-*.ndjson"))[-1:]:
    for line in open(path, encoding="utf-8"):
        event = json.loads(line).get("ScenarioFinished")
        for interaction in (event or {}).get("recorder", {}).get("interactions", {}).values():
            status = (interaction.get("response") or {}).get("status_code")
            statuses[status] += 1
            if status == 200:
                answered.add(event["recorder"]["label"])
if statuses:
    print("responses by status: " + ", ".join(f"{code}: {count}" for code, count in sorted(statuses.items(), key=lambda item: str(item[0]))))
    print(f"operations that answered 200 at least once: {len(answered)}")
PY
if [[ $status -eq 124 || $status -eq 130 ]]; then
    echo "SUMMARY: schemathesis overran its time budget and was stopped after ${elapsed}s (exit $status)"
elif [[ $status -eq 0 ]]; then
    echo "SUMMARY: passed in ${elapsed}s"
else
    echo "SUMMARY: FAILED in ${elapsed}s (schemathesis exit $status); details above and in $report_dir"
fi
exit "$status"

#!/bin/sh
# Creates or updates (upsert) or deletes a Prefect work pool through the Prefect REST API.
# Run by Terraform's local-exec wherever Terraform runs (Terraform Cloud workers included), so it
# needs only POSIX sh and curl. Terraform renders all JSON and hands it over in the environment:
#   PREFECT_API_URL         API base: .../api (self-hosted) or .../api/accounts/<id>/workspaces/<id>
#   WORK_POOL_NAME          the pool name, for messages; WORK_POOL_NAME_ENCODED, URL-encoded
#   WORK_POOL_CREATE_BODY   WorkPoolCreate JSON; WORK_POOL_UPDATE_BODY, WorkPoolUpdate JSON
#   PREFECT_AUTH            api-key | basic-auth | none
#   PREFECT_CSRF            true when the self-hosted server enforces CSRF tokens
# Credentials come only from the environment of the Terraform run, never from Terraform:
#   PREFECT_API_KEY (Bearer) or PREFECT_API_AUTH_STRING ("user:password", Basic)
# Tunables: PREFECT_HTTP_MAX_ATTEMPTS (5), PREFECT_HTTP_CONNECT_TIMEOUT (10 s), PREFECT_HTTP_MAX_TIME (30 s).
# Usage: upsert-work-pool.sh upsert|delete|check
#   check: read-only; compares the pool on the server with WORK_POOL_UPDATE_BODY and prints each
#   difference; exit 0 when they match, 2 on drift (or when the pool is missing), 1 on errors.
set -eu

action=${1:-upsert}
pool=${WORK_POOL_NAME:-?}

fail() {
  printf 'Prefect work pool "%s": %s\n' "$pool" "$*" >&2
  exit 1
}

[ -n "${PREFECT_API_URL:-}" ] || fail "PREFECT_API_URL is not set"
[ -n "${WORK_POOL_NAME_ENCODED:-}" ] || fail "WORK_POOL_NAME_ENCODED is not set"
command -v curl >/dev/null 2>&1 || fail "curl is required on the machine that runs Terraform"

base=${PREFECT_API_URL%/}
auth=${PREFECT_AUTH:-none}
max_attempts=${PREFECT_HTTP_MAX_ATTEMPTS:-5}
connect_timeout=${PREFECT_HTTP_CONNECT_TIMEOUT:-10}
max_time=${PREFECT_HTTP_MAX_TIME:-30}
pool_path="/work_pools/$WORK_POOL_NAME_ENCODED"

umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# Credentials go into a curl config file only this process can read: never into argv, where
# `ps` would show them, and never to the terminal.
config="$tmp/curl.conf"
: >"$config"
curl_quote() {
  printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
}
case $auth in
  api-key)
    [ -n "${PREFECT_API_KEY:-}" ] || fail "PREFECT_API_KEY is not set in the environment of the Terraform run"
    printf 'header = "Authorization: Bearer %s"\n' "$(curl_quote "$PREFECT_API_KEY")" >>"$config"
    ;;
  basic-auth)
    [ -n "${PREFECT_API_AUTH_STRING:-}" ] || fail "PREFECT_API_AUTH_STRING is not set in the environment of the Terraform run"
    printf 'user = "%s"\n' "$(curl_quote "$PREFECT_API_AUTH_STRING")" >>"$config"
    ;;
  none) ;;
  *) fail "PREFECT_AUTH must be api-key, basic-auth or none, not \"$auth\"" ;;
esac

# request METHOD PATH [BODY]: sets $status (000 when nothing answered); the answer is in $tmp/body.
# Retries with exponential backoff on network errors, 429 and 5xx, at most $max_attempts times.
request() {
  method=$1
  path=$2
  body=${3-}
  attempt=1
  delay=1
  while :; do
    set -- --silent --show-error --config "$config" --request "$method" \
      --output "$tmp/body" --dump-header "$tmp/headers" --write-out '%{http_code}' \
      --connect-timeout "$connect_timeout" --max-time "$max_time" \
      --header 'Accept: application/json' --header 'X-PREFECT-API-VERSION: 0.8.4'
    : >"$tmp/body"
    : >"$tmp/headers"
    if [ -n "$body" ]; then
      status=$(printf '%s' "$body" | curl "$@" --header 'Content-Type: application/json' --data-binary @- "$base$path" 2>"$tmp/error") || status=000
    else
      status=$(curl "$@" "$base$path" 2>"$tmp/error") || status=000
    fi
    case $status in
      000 | 429 | 5??) ;;
      *) return 0 ;;
    esac
    [ "$attempt" -lt "$max_attempts" ] || return 0
    wait=$delay
    retry_after=$(sed -n 's/^[Rr][Ee][Tt][Rr][Yy]-[Aa][Ff][Tt][Ee][Rr]:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$tmp/headers" | head -n 1)
    if [ -n "$retry_after" ] && [ "$retry_after" -le 60 ]; then wait=$retry_after; fi
    printf 'Prefect work pool "%s": %s %s answered %s; retrying in %ss (attempt %s of %s)\n' \
      "$pool" "$method" "$path" "$status" "$wait" "$((attempt + 1))" "$max_attempts" >&2
    sleep "$wait"
    attempt=$((attempt + 1))
    delay=$((delay * 2))
    if [ "$delay" -gt 16 ]; then delay=16; fi
  done
}

# One line that says what went wrong and what to fix; then exit non-zero so Terraform reports
# the failure and runs the provisioner again on the next apply.
explain() {
  detail=$(tr '\n' ' ' <"$tmp/body" | cut -c 1-600)
  case $status in
    000) fail "no answer from $base after $max_attempts attempts: $(tr '\n' ' ' <"$tmp/error" | cut -c 1-300)" ;;
    401) fail "401 Unauthorized from $base: check PREFECT_API_KEY (Prefect Cloud) or PREFECT_API_AUTH_STRING (self-hosted) in the environment of the Terraform run" ;;
    403) fail "403 Forbidden from $base: $detail (pool names starting with \"prefect\" are reserved; a server with CSRF protection needs workPool.csrf; the key needs write access to work pools)" ;;
    404) fail "404 Not Found from $base$pool_path: check PREFECT_API_URL (Cloud: https://api.prefect.cloud/api/accounts/<id>/workspaces/<id>; self-hosted: http(s)://<host>/api): $detail" ;;
    422) fail "422 the server rejected the work pool: $detail" ;;
    429 | 5??) fail "HTTP $status from $base after $max_attempts attempts: $detail" ;;
    *) fail "unexpected HTTP $status from $base: $detail" ;;
  esac
}

csrf_headers() {
  client="terraform-$$"
  request GET "/csrf-token?client=$client"
  if [ "$status" = 422 ]; then
    fail "the server at $base has CSRF protection turned off: remove workPool.csrf from the configuration"
  fi
  [ "$status" = 200 ] || explain
  token=$(sed -n 's/.*"token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$tmp/body")
  [ -n "$token" ] || fail "the server's /csrf-token answer holds no token"
  printf 'header = "Prefect-Csrf-Token: %s"\nheader = "Prefect-Csrf-Client: %s"\n' "$(curl_quote "$token")" "$client" >>"$config"
}

upsert() {
  [ -n "${WORK_POOL_UPDATE_BODY:-}" ] || fail "WORK_POOL_UPDATE_BODY is not set"
  [ -n "${WORK_POOL_CREATE_BODY:-}" ] || fail "WORK_POOL_CREATE_BODY is not set"
  request PATCH "$pool_path" "$WORK_POOL_UPDATE_BODY"
  case $status in
    200 | 204) echo "Prefect work pool \"$pool\" updated"; return 0 ;;
    404) ;;
    *) explain ;;
  esac
  request POST "/work_pools/" "$WORK_POOL_CREATE_BODY"
  case $status in
    200 | 201) echo "Prefect work pool \"$pool\" created"; return 0 ;;
    409) ;; # a worker created it meanwhile: update it
    *) explain ;;
  esac
  request PATCH "$pool_path" "$WORK_POOL_UPDATE_BODY"
  case $status in
    200 | 204) echo "Prefect work pool \"$pool\" updated"; return 0 ;;
    *) explain ;;
  esac
}

delete() {
  request DELETE "$pool_path"
  case $status in
    200 | 204) echo "Prefect work pool \"$pool\" deleted" ;;
    404) echo "Prefect work pool \"$pool\" was already absent" ;;
    *) explain ;;
  esac
}

# Flattens JSON into sorted "path<TAB>value" lines, one per scalar (empty objects and lists too), so
# two documents compare line by line whatever their key order and escapes (Terraform writes <, >
# and & as \u003c, \u003e and \u0026). POSIX awk only: no jq on Terraform Cloud workers.
flatten() {
  awk '
    BEGIN { for (i = 32; i < 127; i++) chr[sprintf("%04x", i)] = sprintf("%c", i); chr["0022"] = "\\\""; chr["005c"] = "\\\\" }
    { text = text $0 "\n" }
    END { n = length(text); pos = 1; value("") }
    function skip() { while (pos <= n && index(" \t\r\n", substr(text, pos, 1)) > 0) pos++ }
    function emit(path, v) { printf "%s\t%s\n", path, v }
    function value(path,    c, key, i, literal) {
      skip(); c = substr(text, pos, 1)
      if (c == "{") {
        pos++; skip()
        if (substr(text, pos, 1) == "}") { pos++; emit(path, "{}"); return }
        for (;;) {
          skip(); key = str(); skip(); pos++
          value(path "." key); skip(); c = substr(text, pos, 1); pos++
          if (c != ",") return
        }
      }
      if (c == "[") {
        pos++; skip()
        if (substr(text, pos, 1) == "]") { pos++; emit(path, "[]"); return }
        for (i = 0; ; i++) {
          value(path "[" i "]"); skip(); c = substr(text, pos, 1); pos++
          if (c != ",") return
        }
      }
      if (c == "\"") { emit(path, "\"" str() "\""); return }
      literal = ""
      while (pos <= n && index(",}] \t\r\n", substr(text, pos, 1)) == 0) { literal = literal substr(text, pos, 1); pos++ }
      emit(path, literal)
    }
    function str(    out, c, code) {
      pos++; out = ""
      for (;;) {
        c = substr(text, pos, 1); pos++
        if (c == "\"" || pos > n + 1) return out
        if (c != "\\") { out = out c; continue }
        c = substr(text, pos, 1); pos++
        if (c == "u") {
          code = tolower(substr(text, pos, 4)); pos += 4
          out = out ((code in chr) ? chr[code] : "\\u" code)
        } else if (c == "/") out = out "/"
        else out = out "\\" c
      }
    }
  ' | LC_ALL=C sort
}

check() {
  [ -n "${WORK_POOL_UPDATE_BODY:-}" ] || fail "WORK_POOL_UPDATE_BODY is not set"
  request GET "$pool_path"
  case $status in
    200) ;;
    404)
      printf 'Prefect work pool "%s" does not exist at %s: an apply of the work-pool stack creates it\n' "$pool" "$base"
      exit 2
      ;;
    *) explain ;;
  esac
  # Only what Terraform sends is compared; the server adds id, status, queues and timestamps.
  flatten <"$tmp/body" | grep -E '^\.(description|is_paused|concurrency_limit|base_job_template)[.[	]' >"$tmp/server" || true
  printf '%s' "$WORK_POOL_UPDATE_BODY" | flatten >"$tmp/terraform"
  LC_ALL=C comm -23 "$tmp/terraform" "$tmp/server" >"$tmp/only-terraform"
  LC_ALL=C comm -13 "$tmp/terraform" "$tmp/server" >"$tmp/only-server"
  if [ ! -s "$tmp/only-terraform" ] && [ ! -s "$tmp/only-server" ]; then
    echo "Prefect work pool \"$pool\" matches the configuration"
    return 0
  fi
  echo "Prefect work pool \"$pool\" differs from the configuration (- as Terraform sends it, + as it is on the server):"
  sed 's/^\.\([^	]*\)	\(.*\)$/  - \1 = \2/' "$tmp/only-terraform" | cut -c 1-300
  sed 's/^\.\([^	]*\)	\(.*\)$/  + \1 = \2/' "$tmp/only-server" | cut -c 1-300
  echo "Apply the work-pool stack with -replace=terraform_data.work_pool to put the configuration back."
  exit 2
}

if [ "${PREFECT_CSRF:-false}" = true ]; then csrf_headers; fi
case $action in
  upsert) upsert ;;
  delete) delete ;;
  check) check ;;
  *) fail "unknown action \"$action\" (upsert, delete or check)" ;;
esac

#!/bin/sh
# HCL for every stack, for teams that review and apply HCL: `node synth.js` writing HCL (the app
# renders and formats it as `terraform fmt` does), the same files `npx cdktf synth --hcl` writes.
# Writes cdk.tf instead of cdk.tf.json in each stack folder. Needs no Terraform.
#   npm run synth:hcl [-- --config prefect-ecs-worker.json] [--out cdktf.out]   (-- --help for the rest)
set -eu

usage='Usage: npm run synth:hcl [-- [--config FILE] [--out DIR]]
Synthesizes every stack as HCL (cdk.tf), formatted as terraform fmt formats it; npx cdktf synth --hcl
writes the same files.
  --config FILE  the configuration, JSON or YAML; also --config=FILE (else PREFECT_ECS_WORKER_CONFIG)
  --out DIR      the output folder (default: cdktf.out); also --out=DIR
  -h, --help     print this help and exit
The same configuration and output folder rules as node synth.js: node synth.js --help.'

fail() {
  printf 'synth:hcl: %s\n\n%s\n' "$1" "$usage" >&2
  exit 2
}

out=
config=
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help)
      printf '%s\n' "$usage"
      exit 0
      ;;
    --config | --out)
      [ $# -ge 2 ] || fail "$1 needs a value"
      name=$1 value=$2
      shift 2
      ;;
    --config=* | --out=*)
      name=${1%%=*} value=${1#*=}
      shift
      ;;
    *)
      fail "unknown argument $1"
      ;;
  esac
  [ -n "$value" ] || fail "$name needs a non-empty value"
  if [ "$name" = --config ]; then
    [ -z "$config" ] || fail "--config given more than once"
    config=$value
  else
    [ -z "$out" ] || fail "--out given more than once"
    out=$value
  fi
done
if [ -n "$config" ]; then
  PREFECT_ECS_WORKER_CONFIG=$config
  export PREFECT_ECS_WORKER_CONFIG
fi
out=${out:-cdktf.out}

# SYNTH_HCL_OUTPUT: what cdktf synth --hcl sets for the app; cdktf's App reads it.
SYNTH_HCL_OUTPUT=true exec node "$(dirname "$0")/../synth.js" --out "$out"

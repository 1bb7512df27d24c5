#!/bin/sh
# HCL for every stack, for teams that review and apply HCL: `cdktf synth --hcl` (which runs
# main.ts, so the same configuration, validation and output folders as `node synth.js`), then
# `terraform fmt`. Writes cdk.tf instead of cdk.tf.json in each stack folder.
#   npm run synth:hcl [-- --config prefect-ecs-worker.json] [--out cdktf.out]
set -eu

out=cdktf.out
while [ $# -gt 0 ]; do
  case "$1" in
    --config | --out)
      if [ $# -lt 2 ]; then
        echo "synth:hcl: $1 needs a value" >&2
        exit 2
      fi
      if [ "$1" = --config ]; then
        PREFECT_ECS_WORKER_CONFIG=$2
        export PREFECT_ECS_WORKER_CONFIG
      else
        out=$2
      fi
      shift 2
      ;;
    *)
      echo "synth:hcl: unknown argument $1 (known: --config FILE, --out DIR)" >&2
      exit 2
      ;;
  esac
done

terraform_bin=${TERRAFORM_BIN:-terraform}
if ! command -v "$terraform_bin" >/dev/null 2>&1; then
  echo "synth:hcl: no terraform binary ($terraform_bin) for terraform fmt: put terraform on PATH or set TERRAFORM_BIN" >&2
  exit 1
fi

# CHECKPOINT_DISABLE: cdktf-cli sends no telemetry (and waits for no network).
CHECKPOINT_DISABLE=1 cdktf synth --hcl --output "$out"
"$terraform_bin" fmt -recursive -list=false "$out/stacks"
echo "HCL in $out/stacks/*/cdk.tf"

#!/bin/bash
# Run from the folder that is to hold shards/ and report.json.
set -euo pipefail
here=$(dirname "$0")
mkdir -p shards
array=$(sbatch --parsable "$@" "$here/weakspot-profile.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency=afterany:"$array" "$here/weakspot-merge.sbatch")
echo "array $array, merge ${merge%%;*}"

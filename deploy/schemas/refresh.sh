#!/usr/bin/env bash
# Refresh the schemas that tests/unit/test_deploy.py validates the deployment files against,
# offline. Run by hand when a pinned version moves; the results are committed as data.
#   strimzi/*.v1.json  the openAPIV3Schema of each Strimzi CRD (kafka.strimzi.io/v1), generated
#                      by Strimzi's own CRD generator from its API model (Maven Central);
#                      needs Java 21 or newer (JAVA=/path/to/java to choose one)
#   compose-spec.json  the Compose specification's JSON schema, as compose-go ships it
#                      (Go module proxy; needs go)
#   asyncapi-3.0.0.json  the AsyncAPI 3.0.0 schema from the npm package @asyncapi/specs
# Kubernetes' own kinds come from the kubernetes-validate package (a dev dependency).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${SCHAKEL_CACHE:-$HOME/.cache/schakel}"
strimzi="$(sed -n 's:.*<strimzi.version>\(.*\)</strimzi.version>.*:\1:p' "$here/strimzi-pom.xml")"
compose_go="v2.16.2"
java="${JAVA:-$(ls -d /usr/lib/jvm/temurin-2*/bin/java 2>/dev/null | tail -n 1)}"
java="${java:-java}"

libs="$cache/strimzi-$strimzi/libs"
if [ ! -d "$libs" ]; then
  mvn -q -f "$here/strimzi-pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs"
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$java" -cp "$libs/*" io.strimzi.crdgenerator.CrdGenerator --yaml --api-versions v1 \
  --storage-version v1 \
  io.strimzi.api.kafka.model.kafka.Kafka="$out/kafka.yaml" \
  io.strimzi.api.kafka.model.nodepool.KafkaNodePool="$out/kafkanodepool.yaml" \
  io.strimzi.api.kafka.model.topic.KafkaTopic="$out/kafkatopic.yaml" \
  io.strimzi.api.kafka.model.user.KafkaUser="$out/kafkauser.yaml"
python3 - "$out" "$here/strimzi" "$strimzi" <<'PY'
import json, pathlib, sys, yaml
src, dst, version = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
for crd_file in sorted(src.glob("*.yaml")):
    crd = yaml.safe_load(crd_file.read_text())
    (v1,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    schema = {"x-source": f"io.strimzi:api:{version} {crd['metadata']['name']}", **v1["schema"]["openAPIV3Schema"]}
    (dst / f"{crd_file.stem}.v1.json").write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
PY

gomod="$(mktemp -d)"
(cd "$gomod" && go mod init schemas >/dev/null 2>&1 && \
  dir="$(go mod download -json "github.com/compose-spec/compose-go/v2@$compose_go" | \
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')" && \
  cp "$dir/schema/compose-spec.json" "$here/compose-spec.json" && chmod 644 "$here/compose-spec.json")
rm -rf "$gomod"

asyncapi_specs="6.11.1"
npmdir="$(mktemp -d)"
(cd "$npmdir" && npm pack -s "@asyncapi/specs@$asyncapi_specs" >/dev/null && tar xzf asyncapi-specs-*.tgz && \
  cp 'package/schemas/3.0.0-without-$id.json' "$here/asyncapi-3.0.0.json")
rm -rf "$npmdir"
echo "schemas refreshed: Strimzi $strimzi, compose-go $compose_go, @asyncapi/specs $asyncapi_specs"

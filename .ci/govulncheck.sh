#!/bin/sh
# govulncheck.sh runs govulncheck on the whole module against a local copy of
# the Go vulnerability database, for CI machines that cannot reach
# vuln.go.dev.
#
# The database comes from the Go module golang.org/x/vulndb, which the Go
# module proxy serves: its data/osv holds one OSV record per vulnerability
# (GO-YYYY-NNNN.json). govulncheck's file:// databases need the v1 layout
# (index/db.json, index/modules.json, ID/<id>.json), which vulndb's own
# cmd/indexdb writes from a directory of OSV files. The result is cached
# per vulndb version, so only the first run pays for the download and build.
#
# Usage: .ci/govulncheck.sh [packages]   (default ./...)
# Environment:
#   VULNDB_VERSION   vulndb module version (default below)
#   GOVULNCHECK_VERSION  (default v1.9.0)
#   VULNDB_DIR       where the built database is cached
#                    (default $(go env GOCACHE)/postdesk-vulndb/$VULNDB_VERSION)
# Exit status: govulncheck's (0 clean, 3 vulnerabilities found), or 1 when
# the database or the tool cannot be built.
set -eu

VULNDB_VERSION=${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}
GOVULNCHECK_VERSION=${GOVULNCHECK_VERSION:-v1.9.0}
VULNDB_DIR=${VULNDB_DIR:-$(go env GOCACHE)/postdesk-vulndb/$VULNDB_VERSION}

cd "$(dirname "$0")/.."

if [ ! -s "$VULNDB_DIR/index/modules.json" ]; then
	echo "govulncheck.sh: building the vulnerability database from golang.org/x/vulndb@$VULNDB_VERSION" >&2
	src=$(GOFLAGS= go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	if [ -z "$src" ] || [ ! -d "$src/data/osv" ]; then
		echo "govulncheck.sh: golang.org/x/vulndb@$VULNDB_VERSION has no data/osv" >&2
		exit 1
	fi
	tmp="$VULNDB_DIR.tmp.$$"
	rm -rf "$tmp"
	mkdir -p "$(dirname "$VULNDB_DIR")"
	# cmd/indexdb validates every record and writes index/ and ID/.
	GOFLAGS= go run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" -vulns "$src/data/osv" -out "$tmp"
	for f in index/db.json index/modules.json; do
		if [ ! -s "$tmp/$f" ]; then
			echo "govulncheck.sh: indexdb wrote no $f" >&2
			exit 1
		fi
	done
	rm -rf "$VULNDB_DIR"
	mv "$tmp" "$VULNDB_DIR"
	echo "govulncheck.sh: $(ls "$VULNDB_DIR/ID" | wc -l) records in $VULNDB_DIR" >&2
fi

# govulncheck type-checks the standard library of the Go that runs it, so
# it must be built by that same Go: one binary per tool and Go version.
gobin=$(go env GOCACHE)/postdesk-tools/govulncheck-$GOVULNCHECK_VERSION-$(go env GOVERSION)
bin=$gobin/govulncheck
if [ ! -x "$bin" ]; then
	GOFLAGS= GOBIN=$gobin go install "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION"
fi
echo "govulncheck.sh: $("$bin" -version 2>/dev/null | grep -E 'Go:|Scanner:' | tr -s ' \n' ' ')" >&2

if [ $# -eq 0 ]; then
	set -- ./...
fi
exec "$bin" -db "file://$VULNDB_DIR" "$@"

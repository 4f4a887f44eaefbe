#!/bin/sh
# Regenerates the zones signed by BIND's dnssec-signzone that
# TestBINDSignedZones verifies: one per DNSSEC algorithm caaprobe
# validates, NSEC3 for algorithm 7 (its reason to exist), NSEC otherwise.
# Signatures are valid from 2025-01-01 to 2035-01-01; the test judges them
# at 2030-01-01. Run from this directory: sh gen.sh
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for spec in 5:RSASHA1:1024 7:NSEC3RSASHA1:1024 8:RSASHA256:1024 10:RSASHA512:1024 \
	13:ECDSAP256SHA256: 14:ECDSAP384SHA384: 15:ED25519: 16:ED448:; do
	num=${spec%%:*}; rest=${spec#*:}; alg=${rest%%:*}; bits=${rest#*:}
	zone=alg$num.test
	cat > "$tmp/$zone" <<ZONE
\$TTL 3600
@	SOA	ns1.$zone. hostmaster.$zone. 1 7200 3600 1209600 300
	NS	ns1.$zone.
	CAA	0 issue "letsencrypt.org"
ns1	A	127.0.0.1
www	MX	10 Mail.Alg$num.TEST.
	A	127.0.0.2
*.wild	CAA	0 issue "letsencrypt.org; validationmethods=dns-01"
ZONE
	(cd "$tmp" && dnssec-keygen -q -a "$alg" ${bits:+-b "$bits"} "$zone" > "$zone.key.name" 2>/dev/null)
	echo "\$INCLUDE $(cat "$tmp/$zone.key.name").key" >> "$tmp/$zone"
	nsec3=""
	[ "$num" = 7 ] && nsec3="-3 - -H 0"
	(cd "$tmp" && dnssec-signzone -q -z -s 20250101000000 -e 20350101000000 $nsec3 \
		-o "$zone" -f "$zone.signed" "$zone" > /dev/null)
	named-checkzone -q -D -o - "$zone" "$tmp/$zone.signed" > "$zone.signed"
done

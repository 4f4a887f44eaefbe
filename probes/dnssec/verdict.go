package dnssec

import (
	"fmt"

	"github.com/caaprobe/caaprobe/probes/model"
)

// Status is what a validating resolver concludes from a reply: the
// model's DNSSECStatus, so a name's state is the validator's with no
// conversion.
type Status = model.DNSSECStatus

const (
	// StatusSecure: the reply validates from the trusted keys.
	StatusSecure = model.DNSSECSecure
	// StatusBogus: the reply is signed or carries a denial, and it does not
	// validate. A validating resolver answers SERVFAIL.
	StatusBogus = model.DNSSECBogus
	// StatusMissing: the zone is signed but the reply lacks an RRSIG or a
	// denial of existence. A validating resolver answers SERVFAIL too; it is
	// kept apart from bogus because the fix differs (the server drops DNSSEC
	// records instead of making wrong ones).
	StatusMissing = model.DNSSECMissing
	// StatusInsecure: there is nothing to validate against (no DS, only
	// unsupported algorithms, opt-out) or nothing to validate (an RCODE that
	// carries no data). A validating resolver accepts the reply as is.
	StatusInsecure = model.DNSSECInsecure
	// StatusIndeterminate: no trust anchor covers the tree in use (RFC
	// 4033 §5), for example a private root checked with IANA's anchor.
	// Nothing can be said for or against the replies; they are not judged.
	StatusIndeterminate = model.DNSSECIndeterminate
)

// Reason says why a Verdict has its Status. Reasons are stable strings that
// reports and users' scripts may match on.
type Reason string

// Reasons for StatusSecure.
const (
	ReasonSigned         Reason = "signed"          // positive answer, every RRset validated
	ReasonNoDataProven   Reason = "nodata-proven"   // NODATA proven by NSEC/NSEC3
	ReasonNXDomainProven Reason = "nxdomain-proven" // NXDOMAIN proven by NSEC/NSEC3
	ReasonDSMatches      Reason = "ds-matches"      // DNSKEY RRset anchored by a DS
)

// Reasons for StatusBogus.
const (
	ReasonExpired          Reason = "expired"              // now is after the RRSIG's expiration
	ReasonNotYetValid      Reason = "not-yet-valid"        // now is before the RRSIG's inception
	ReasonBadSignature     Reason = "bad-signature"        // the signature does not verify with its key
	ReasonNoMatchingKey    Reason = "no-matching-key"      // no trusted key has the RRSIG's tag and algorithm
	ReasonWrongSigner      Reason = "wrong-signer"         // the RRSIG's signer is not the zone
	ReasonWildcardLabels   Reason = "wildcard-labels"      // RRSIG labels field exceeds the owner's label count
	ReasonDSMatchesNoKey   Reason = "ds-matches-no-dnskey" // no DNSKEY matches any usable DS
	ReasonDNSKEYNotByDSKey Reason = "dnskey-not-signed-by-ds-key"
	ReasonDenialNoProof    Reason = "denial-does-not-prove" // NSEC/NSEC3 present but do not prove the denial
	ReasonBitmapListsType  Reason = "bitmap-lists-type"     // the NODATA record's bitmap lists the type or CNAME
)

// Reasons for StatusMissing.
const (
	ReasonMissingRRSIG  Reason = "missing-rrsig"  // an RRset that must be signed has no RRSIG
	ReasonMissingDenial Reason = "missing-denial" // negative or wildcard answer without NSEC/NSEC3
	ReasonMissingDNSKEY Reason = "missing-dnskey" // the parent has a DS but the server sent no DNSKEY
)

// Reasons for StatusInsecure.
const (
	ReasonNoDS            Reason = "no-ds"                 // the parent has no DS: unsigned delegation
	ReasonNoKeys          Reason = "no-keys"               // no trusted keys were given
	ReasonUnsupportedAlg  Reason = "unsupported-algorithm" // only algorithms or digests this package cannot validate (RFC 4035 §5.2)
	ReasonOptOut          Reason = "opt-out"               // NSEC3 opt-out span: no proof for unsigned delegations (RFC 5155 §6)
	ReasonNSEC3Iterations Reason = "nsec3-iterations"      // NSEC3 iterations above what resolvers validate (RFC 9276 §3.2)
	ReasonOutsideZone     Reason = "outside-zone"          // qname is not in the zone
	ReasonReferral        Reason = "referral"              // the reply delegates qname to a child zone
	ReasonUnvalidated     Reason = "unvalidated-rcode"     // RCODE other than NOERROR/NXDOMAIN, or truncated: no data to validate
)

// Reasons for StatusIndeterminate.
const (
	ReasonNoAnchor Reason = "no-anchor" // the root's keys match no trust anchor: another hierarchy
)

// Verdict is the judgement on one reply or one DNSKEY RRset.
type Verdict struct {
	Status Status
	Reason Reason
	// Detail is one line of evidence: owner, type, key tag, times.
	Detail string
}

func (v Verdict) String() string {
	return fmt.Sprintf("%s/%s: %s", v.Status, v.Reason, v.Detail)
}

func verdict(s Status, r Reason, format string, args ...any) Verdict {
	return Verdict{Status: s, Reason: r, Detail: fmt.Sprintf(format, args...)}
}

func secure(r Reason, format string, args ...any) Verdict {
	return verdict(StatusSecure, r, format, args...)
}

func bogus(r Reason, format string, args ...any) Verdict {
	return verdict(StatusBogus, r, format, args...)
}

func missing(r Reason, format string, args ...any) Verdict {
	return verdict(StatusMissing, r, format, args...)
}

func insecure(r Reason, format string, args ...any) Verdict {
	return verdict(StatusInsecure, r, format, args...)
}

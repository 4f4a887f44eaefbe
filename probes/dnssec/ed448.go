package dnssec

import (
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/caaprobe/caaprobe/probes/dnssec/canonical"
	"github.com/cloudflare/circl/sign/ed448"
	"github.com/miekg/dns"
)

var errSig = errors.New("signature does not verify")

// verifyEd448 is RRSIG.Verify for ED448 (RFC 8080 §3: PureEdDSA with an
// empty context over the signed data), which miekg/dns does not implement.
// The caller has matched the key's tag, algorithm and owner to the RRSIG.
func verifyEd448(sig *dns.RRSIG, k *dns.DNSKEY, rrset []dns.RR) error {
	pub, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil || len(pub) != ed448.PublicKeySize {
		return fmt.Errorf("ED448 key %d: public key is not %d octets", k.KeyTag(), ed448.PublicKeySize)
	}
	raw, err := base64.StdEncoding.DecodeString(sig.Signature)
	if err != nil || len(raw) != ed448.SignatureSize {
		return fmt.Errorf("ED448 signature is not %d octets", ed448.SignatureSize)
	}
	data, err := canonical.SignedData(sig, rrset)
	if err != nil {
		return err
	}
	if !ed448.Verify(ed448.PublicKey(pub), data, raw, "") {
		return errSig
	}
	return nil
}
